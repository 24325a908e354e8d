/**
 * One adversarial control connection driving a fuzz sequence. Replies are not matched to
 * commands one by one (pipelined garbage makes that meaningless); instead, before each
 * transfer and after each step the session synchronises with an unknown verb carrying a
 * unique token ("ZAAB"): the server's 500 reply naming it marks the end of everything
 * before. Every wait is bounded; every socket and listener it opens is closed at the end.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeEprt, encodeHostPort, parseEpsvReply, parsePasvReply } from '../../src/protocol/address.js';
import { sleep } from '../helpers/timing.js';
import { ReplyStream, type Reply } from './reply-stream.js';
import { argBytes, lineBytes, splitAt, TELNET_IP_DM, type DataAction, type DataMode, type LoginAs, type Step } from './steps.js';
import { FOREIGN_ADDRESS, type FuzzWorld } from './world.js';

const HOST = '127.0.0.1';
const REPLY_MS = 3000;
/** A transfer may wait up to timeouts.data_connect (1 s) for its data connection, then answer. */
const SYNC_MS = 6000;
const CONNECT_MS = 2000;
const STALL_MS = 300;
const UPLOAD_VERBS = new Set(['STOR', 'APPE', 'STOU']);
/** Random bytes uploads are cut from (the same for every sequence: reproducible). */
const PAYLOAD = Buffer.from(Array.from({ length: 512 * 1024 }, (_, i) => (i * 2654435761) >>> 24));

interface PreparedData {
  /** The data connection, once the transfer command got its 1xx; null when it never came. */
  connect(): Promise<Socket | null>;
}

export class FuzzSession {
  /** Property violations seen (besides framing errors, which the stream keeps). */
  readonly violations: string[] = [];
  readonly stream: ReplyStream;
  private syncs = 0;
  private readonly dataSockets = new Set<Socket>();
  private readonly listeners = new Set<Server>();

  private constructor(
    private readonly world: FuzzWorld,
    private readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    this.stream = new ReplyStream(socket);
  }

  static async open(world: FuzzWorld): Promise<FuzzSession> {
    const socket = connect({ host: HOST, port: world.server.port });
    socket.on('error', () => undefined);
    const session = new FuzzSession(world, socket);
    const greeting = await session.stream.next(REPLY_MS);
    if (greeting?.code !== 220) session.violations.push(`greeting was ${greeting ? greeting.lines.join(' | ') : 'missing'}`);
    return session;
  }

  /** The connection still speaks FTP (not closed, not handed to a TLS handshake). */
  get usable(): boolean {
    return !this.stream.closed && !this.socket.destroyed && !this.stream.replies.some((reply) => reply.code === 234);
  }

  private write(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  private async command(line: string): Promise<Reply | null> {
    this.write(line + '\r\n');
    return this.stream.next(REPLY_MS);
  }

  async login(as: LoginAs): Promise<void> {
    if (as === 'none') return;
    const [user, password, expected] =
      as === 'alice' ? ['alice', 'secret', 230] : as === 'bob' ? ['bob', 'secret', 230] : as === 'anonymous' ? ['anonymous', 'fuzz@example.com', 230] : ['alice', 'wrong', 530];
    const userReply = await this.command(`USER ${user}`);
    const passReply = await this.command(`PASS ${password}`);
    if (userReply?.code !== 331 || passReply?.code !== expected) {
      this.violations.push(`login as ${as}: USER got ${userReply?.code ?? 'nothing'}, PASS got ${passReply?.code ?? 'nothing'} (expected ${expected})`);
    }
  }

  /**
   * Sends a unique unknown verb and takes every reply up to its 500. False when the
   * server did not answer in time (or the connection is gone).
   */
  async sync(): Promise<boolean> {
    if (!this.usable) return false;
    const token = 'Z' + syncToken(this.syncs++);
    this.write(`\r\n${token}\r\n`);
    const reply = await this.stream.until((r) => r.code === 500 && r.text.includes(`"${token}"`), SYNC_MS);
    return reply !== null;
  }

  async run(step: Step): Promise<void> {
    if (!this.usable) return;
    switch (step.kind) {
      case 'send': {
        const parts = splitAt(Buffer.concat(step.lines.map(lineBytes)), step.cuts);
        for (const part of parts) {
          this.write(part);
          if (parts.length > 1) await sleep(2);
        }
        break;
      }
      case 'raw':
        this.write(Buffer.from(step.bytes));
        break;
      case 'storm':
        this.write(`${step.verb}\r\n`.repeat(step.count));
        break;
      case 'transfer':
        await this.transfer(step);
        break;
      case 'bounce':
        await this.bounce(step.command, step.then);
        break;
    }
    await this.sync();
  }

  /** The refused PORT/EPRT must not get 200; the transfer command after it must not make the server connect. */
  private async bounce(command: string, then: string): Promise<void> {
    if (!(await this.sync())) return;
    const reply = await this.command(command);
    if (reply?.code === 200) this.violations.push(`"${command}" was accepted (FTP bounce)`);
    this.write(`${then}\r\n`);
  }

  private async transfer(step: Extract<Step, { kind: 'transfer' }>): Promise<void> {
    if (!(await this.sync())) return;
    const data = await this.prepareData(step.mode, step.from);
    if (!data) return;
    const arg = argBytes(step.arg);
    this.write(Buffer.concat([Buffer.from(step.verb), arg.length > 0 ? Buffer.concat([Buffer.from(' '), arg]) : Buffer.alloc(0), Buffer.from('\r\n')]));
    const preliminary = await this.stream.next(REPLY_MS);
    if (!preliminary || preliminary.code >= 200 || step.action === 'ignore') return;
    const socket = await data.connect();
    if (!socket) return;
    const upload = UPLOAD_VERBS.has(step.verb);
    // Only a passive connection can come from elsewhere; in active mode the server dials us.
    const foreign = step.from === 'foreign' && (step.mode === 'PASV' || step.mode === 'EPSV');
    const payload = foreign ? Buffer.concat([Buffer.from(this.world.foreignMarker), PAYLOAD.subarray(0, step.size)]) : PAYLOAD.subarray(0, step.size);
    await this.useData(socket, upload, payload, step.action);
  }

  /** Drives the data connection as the action says, then waits (bounded) for the final reply. */
  private async useData(socket: Socket, upload: boolean, payload: Buffer, action: DataAction): Promise<void> {
    const half = payload.subarray(0, Math.ceil(payload.length / 2));
    const rest = payload.subarray(half.length);
    const partWay = async (): Promise<void> => {
      if (upload) socket.write(half);
      else await Promise.race([once(socket, 'data'), once(socket, 'close'), sleep(1000)]);
    };
    const finish = async (): Promise<void> => {
      if (upload) socket.end(rest);
      await Promise.race([once(socket, 'close'), sleep(5000)]);
    };
    switch (action) {
      case 'complete':
        if (upload) socket.end(payload);
        await Promise.race([once(socket, 'close'), sleep(5000)]);
        break;
      case 'reset':
        await partWay();
        socket.resetAndDestroy();
        break;
      case 'abor':
      case 'abor-telnet':
        await partWay();
        this.write(Buffer.concat([action === 'abor-telnet' ? TELNET_IP_DM : Buffer.alloc(0), Buffer.from('ABOR\r\n')]));
        await this.stream.until((r) => r.code >= 200, REPLY_MS);
        socket.destroy();
        return;
      case 'stat':
        await partWay();
        this.write('STAT\r\n');
        await this.stream.until((r) => r.code >= 200 && r.code < 300, REPLY_MS);
        await finish();
        break;
      case 'stall':
        socket.pause();
        await partWay();
        await sleep(STALL_MS);
        socket.resume();
        await finish();
        break;
      case 'vanish':
        await partWay();
        this.stream.abandon();
        this.socket.destroy();
        socket.destroy();
        return;
      case 'ignore':
        return;
    }
    await this.stream.until((r) => r.code >= 200, SYNC_MS);
  }

  private async prepareData(mode: DataMode, from: 'self' | 'foreign'): Promise<PreparedData | null> {
    if (mode === 'PASV' || mode === 'EPSV') {
      const reply = await this.command(mode);
      if (reply?.code !== (mode === 'PASV' ? 227 : 229)) return null;
      const target = mode === 'PASV' ? parsePasvReply(reply.text) : { host: HOST, port: parseEpsvReply(reply.text) };
      const port = target?.port;
      if (!target || !port) {
        this.violations.push(`unparsable ${mode} reply: ${reply.text}`);
        return null;
      }
      if (target.host !== HOST) {
        this.violations.push(`${mode} advertised ${target.host}, not the control connection's ${HOST}`);
        return null;
      }
      return { connect: () => this.connectData(port, from) };
    }
    const listener = createServer();
    this.listeners.add(listener);
    listener.listen(0, HOST);
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    // Listening for the server's connection from now: it may come before we look.
    const accepted = new Promise<Socket>((resolve) =>
      listener.on('connection', (socket: Socket) => {
        this.watchData(socket, 'active data connection');
        resolve(socket);
      }),
    );
    const reply = await this.command(`${mode} ${mode === 'PORT' ? encodeHostPort(HOST, port) : encodeEprt(HOST, port)}`);
    if (reply?.code !== 200) return null;
    return {
      connect: () => Promise.race([accepted, sleep(CONNECT_MS).then(() => null)]),
    };
  }

  private async connectData(port: number, from: 'self' | 'foreign'): Promise<Socket | null> {
    const socket = connect({ host: HOST, port, localAddress: from === 'foreign' ? FOREIGN_ADDRESS : undefined });
    this.watchData(socket, from === 'foreign' ? 'foreign passive peer' : 'passive data connection');
    if (from === 'foreign') socket.on('data', () => this.violations.push(`the server sent data to a passive peer at ${FOREIGN_ADDRESS}`));
    const connected = await Promise.race([once(socket, 'connect').then(() => true), once(socket, 'close').then(() => false), sleep(CONNECT_MS).then(() => false)]);
    return connected ? socket : null;
  }

  /** Tracks a data socket for cleanup and checks what it carries for the sentinel's content. */
  private watchData(socket: Socket, what: string): void {
    this.dataSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.dataSockets.delete(socket));
    const marker = this.world.sentinelMarker;
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      if (text.includes(marker)) this.violations.push(`${what} carried the sentinel file's content (read outside the root)`);
      tail = text.slice(-marker.length);
    });
  }

  /** Violations visible on the control connection itself (read at the end of the sequence). */
  controlLeaks(): string[] {
    const leaks: string[] = [];
    if (this.stream.received.includes(this.world.sentinelMarker)) leaks.push("a reply carried the sentinel file's content");
    if (this.stream.received.includes(this.world.parent)) leaks.push('a reply revealed the host path of the root');
    return leaks;
  }

  close(): void {
    this.stream.abandon();
    this.socket.destroy();
    for (const socket of this.dataSockets) socket.destroy();
    for (const listener of this.listeners) listener.close();
  }
}

/** 0 -> "AAA", 1 -> "AAB", ...: three letters, so "Z" + token is a four-letter unknown verb. */
function syncToken(n: number): string {
  let out = '';
  for (let i = 0; i < 3; i++) {
    out = String.fromCharCode(65 + (n % 26)) + out;
    n = Math.floor(n / 26);
  }
  return out;
}
