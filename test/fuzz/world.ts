/**
 * The fuzzer's world: a live in-process server (plain FTP with TLS available, anonymous
 * on), a fixture reset before every sequence, a sentinel folder next to the root whose
 * content and whose parent's listing must never change, a bounce trap listening on
 * 127.0.0.2, and the liveness check a second client runs after every sequence.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { defaultCommandTable } from '../../src/server/commands/table.js';
import { treeHashes } from '../helpers/data.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { waitFor, withTimeout } from '../helpers/timing.js';

export const SENTINEL_DIR = 'sentinel';
/** An address of this machine that is not the client's: passive peers and PORT targets there must be refused. */
export const FOREIGN_ADDRESS = '127.0.0.2';
const BIG_SIZE = 4 * 1024 * 1024;
const LIVENESS_MS = Number(process.env.FERRY_FUZZ_LIVENESS_MS ?? 1000);

export class FuzzWorld {
  /** Random text in the sentinel file: seeing it on any connection means a read outside the root. */
  readonly sentinelMarker = `SENTINEL-${randomBytes(16).toString('hex')}`;
  /** Random text in uploads sent from the foreign address: finding it in the root means one was accepted. */
  readonly foreignMarker = `FOREIGN-${randomBytes(16).toString('hex')}`;
  /** Connections the bounce trap received (the server connected to a refused PORT target). */
  bounces = 0;
  readonly verbs: string[];
  private readonly trapSockets = new Set<Socket>();
  private sentinelBefore: Record<string, string> = {};
  private parentBefore: string[] = [];
  private anonymousBefore: Record<string, string> = {};

  private constructor(
    readonly server: TestServer,
    private readonly trap: Server,
    readonly trapPort: number,
  ) {
    this.verbs = defaultCommandTable().verbs();
  }

  static async create(): Promise<FuzzWorld> {
    const server = await startServer(
      {
        anonymous: { enabled: true },
        max_login_failures: 3,
        // Fuzz sequences log in badly on purpose: no banning, no delay, no rate limit.
        defender: { enabled: false, failed_login_delay: 0 },
        limits: { connection_rate: 0 },
        tls: { mode: 'optional', handshake_timeout: 1 },
        timeouts: { data_connect: 1, data_idle: 5, login: 10 },
      },
      { tls: true },
    );
    const trap = createServer();
    trap.listen(0, FOREIGN_ADDRESS);
    await once(trap, 'listening');
    const world = new FuzzWorld(server, trap, (trap.address() as { port: number }).port);
    trap.on('connection', (socket: Socket) => {
      world.bounces++;
      world.trapSockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => world.trapSockets.delete(socket));
      socket.destroy();
    });
    world.createOutsiders();
    return world;
  }

  get parent(): string {
    return dirname(this.server.root);
  }

  private createOutsiders(): void {
    const sentinel = join(this.parent, SENTINEL_DIR);
    mkdirSync(join(sentinel, 'inner'), { recursive: true });
    writeFileSync(join(sentinel, 'secret.txt'), `${this.sentinelMarker}\n`);
    writeFileSync(join(sentinel, 'inner', 'deep.txt'), `${this.sentinelMarker} deep\n`);
    writeFileSync(join(this.server.anonymousRoot, 'pub.txt'), 'public\n');
    this.sentinelBefore = treeHashes(sentinel);
    this.parentBefore = readdirSync(this.parent).sort();
    this.anonymousBefore = treeHashes(this.server.anonymousRoot);
  }

  /** The root back to its fixture, so every sequence starts from the same files. */
  resetRoot(): void {
    const root = this.server.root;
    for (const name of readdirSync(root)) rmSync(join(root, name), { recursive: true, force: true, maxRetries: 3 });
    writeFileSync(join(root, 'f.txt'), 'fuzz fixture\n');
    writeFileSync(join(root, 'big.bin'), randomBytes(BIG_SIZE));
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'dir', 'nested.txt'), 'nested\n');
  }

  /** What changed outside the root (empty when nothing did). */
  outsideChanges(): string[] {
    const changes: string[] = [];
    const sentinel = JSON.stringify(treeHashes(join(this.parent, SENTINEL_DIR)));
    if (sentinel !== JSON.stringify(this.sentinelBefore)) changes.push(`sentinel folder changed: ${sentinel}`);
    const parent = readdirSync(this.parent).sort();
    if (JSON.stringify(parent) !== JSON.stringify(this.parentBefore)) changes.push(`the root's parent changed: ${parent.join(', ')}`);
    const anonymous = JSON.stringify(treeHashes(this.server.anonymousRoot));
    if (anonymous !== JSON.stringify(this.anonymousBefore)) changes.push(`the read-only anonymous root changed: ${anonymous}`);
    return changes;
  }

  /** Files in the root holding an upload sent from the foreign address. */
  foreignUploads(): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (readFileSync(full).includes(this.foreignMarker)) found.push(full);
      }
    };
    walk(this.server.root);
    return found;
  }

  /** A second client logs in and lists "/" within LIVENESS_MS; the reason when it cannot. */
  async livenessFailure(): Promise<string | null> {
    const { host, port } = this.server;
    let connection: FtpConnection | null = null;
    const attempt = (async () => {
      connection = await FtpConnection.login(host, port, USER, PASSWORD);
      const listing = await connection.download('LIST', 'EPSV');
      if (listing.final.code !== 226) throw new Error(`LIST ended with ${listing.final.lines.join(' | ')}`);
    })();
    // Past the deadline the attempt goes on: its connection is closed once it has one.
    const close = () => (connection as FtpConnection | null)?.close();
    void attempt.then(close, close);
    try {
      await withTimeout(attempt, LIVENESS_MS, 'a second client logging in and listing');
      return null;
    } catch (error) {
      return `second client not served: ${(error as Error).message}`;
    } finally {
      close();
    }
  }

  /** Waits until the server holds no session (bounded); false if some outlived its socket. */
  sessionsDrained(timeoutMs = 3000): Promise<boolean> {
    return waitFor(() => this.server.server.sessionCount === 0, timeoutMs);
  }

  async close(): Promise<void> {
    for (const socket of this.trapSockets) socket.destroy();
    await new Promise((resolve) => this.trap.close(resolve));
    await this.server.stop(); // removes the root's parent, sentinel included
  }
}
