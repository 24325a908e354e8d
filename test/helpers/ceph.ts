/**
 * A throwaway single-node Ceph RADOS Gateway (real S3) for tests, from Debian's ceph-mon,
 * ceph-osd and radosgw packages: one monitor, one in-memory OSD (memstore), one gateway
 * on free loopback ports, all state in one temporary folder, each daemon stopped by the
 * PID it was started with. The recipe and its pitfalls: shared/design/S3-TESTING.md.
 *
 * One gateway per test file (`cephGatewayForFile`); tests skip with the reason when the
 * binaries are missing or the cluster cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { closedPort } from './ports.js';
import { findBinary, killOnExit, runProcess, stopChild, type ProcessResult } from './run-process.js';

const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'ceph', 'radosgw', 'radosgw-admin'] as const;
/** Each daemon and each admin command gets this long; the whole start-up is ~3 s here. */
const STEP_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 200;
/** memstore keeps objects in RAM: by default enough for the tests' usual uploads (64 MiB) several times over. */
const DEFAULT_MEMSTORE_BYTES = 1024 * 1024 * 1024;

export interface S3Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

function newKeys(): S3Keys {
  return { accessKeyId: `FERRY${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
}

export interface CephGateway {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The folder holding all of the cluster's state and logs. */
  dir: string;
  /** Milliseconds from the first command to a gateway answering S3 with a user. */
  startupMs: number;
  /** A client with the settings Ferry uses (path style, checksums only where required); the gateway's own user by default. */
  client(keys?: S3Keys): S3Client;
  /** Another S3 user (who owns nothing yet). */
  createUser(): Promise<S3Keys>;
  /** Creates a bucket (default: with a fresh name) and returns the name. */
  createBucket(name?: string): Promise<string>;
  stop(): Promise<void>;
}

function missingBinary(): string | null {
  const missing = BINARIES.filter((name) => findBinary(name) === null);
  return missing.length ? `Ceph is not installed (${missing.join(', ')} not on PATH; apt-get install ceph-mon ceph-osd radosgw)` : null;
}

function cephConf(dir: string, monitor: string, rgwPort: number, memstoreBytes: number): string {
  return `[global]
fsid = ${randomUUID()}
mon host = ${monitor}
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
public network = 127.0.0.0/8
ms bind ipv6 = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
# Start-up drops from ~13 s to ~3 s.
paxos propose interval = 0.1
paxos min wait = 0.01
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
mon data = ${dir}/mon
osd data = ${dir}/osd
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
rgw data = ${dir}/rgw

[client.rgw.a]
# Without it radosgw waits forever in AUTH_CONNECTING when auth is none.
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`;
}

async function pollUntil(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A check that throws (a daemon died) fails the start now, not at the deadline.
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`Ceph: ${what} not ready after ${timeoutMs} ms`);
}

function httpAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

class Cluster {
  private readonly daemons: ChildProcess[] = [];
  readonly conf: string;

  constructor(readonly dir: string) {
    this.conf = join(dir, 'ceph.conf');
  }

  async run(file: string, args: readonly string[]): Promise<ProcessResult> {
    const result = await runProcess(file, ['-c', this.conf, ...args], { timeoutMs: STEP_TIMEOUT_MS });
    if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${result.code}${result.timedOut ? ' (timed out)' : ''}\n${result.stderr.slice(-2000)}`);
    return result;
  }

  /** Starts a daemon in the foreground (-f), so its PID is the one we hold. */
  daemon(file: string, args: readonly string[]): void {
    const name = file.replace(/^ceph-/, '');
    const output = join(this.dir, 'log', `${name}.out`);
    const child = spawn(file, ['-c', this.conf, '-f', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('exit', () => writeFileSync(output, Buffer.concat(chunks)));
    killOnExit(child);
    this.daemons.push(child);
  }

  /** Throws when a daemon has already died (then its log says why). */
  assertDaemonsAlive(): void {
    const dead = this.daemons.find((child) => child.exitCode !== null || child.signalCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited (${dead.exitCode ?? dead.signalCode})`);
  }

  /** Newest first: the gateway, then the OSD, then the monitor. */
  async stop(): Promise<void> {
    for (const child of [...this.daemons].reverse()) await stopChild(child);
    this.daemons.length = 0;
  }
}

function createS3User(cluster: Cluster, keys: S3Keys): Promise<ProcessResult> {
  const uid = `user-${keys.accessKeyId.toLowerCase()}`;
  return cluster.run('radosgw-admin', ['user', 'create', `--uid=${uid}`, `--display-name=${uid}`, `--access-key=${keys.accessKeyId}`, `--secret-key=${keys.secretAccessKey}`]);
}

async function startCluster(cluster: Cluster, keys: S3Keys, options: GatewayOptions): Promise<number> {
  const { dir } = cluster;
  for (const sub of ['mon', 'osd', 'rgw', 'run', 'log']) mkdirSync(join(dir, sub));
  // Bound, then closed: free now; a clash with another process is reported, not hidden.
  const [monV2, monV1, rgwPort] = [await closedPort(), await closedPort(), options.port ?? (await closedPort())];
  const monitor = `[v2:127.0.0.1:${monV2},v1:127.0.0.1:${monV1}]`;
  writeFileSync(cluster.conf, cephConf(dir, monitor, rgwPort, options.memstoreBytes ?? DEFAULT_MEMSTORE_BYTES));
  const fsid = /fsid = (\S+)/.exec(readFileSync(cluster.conf, 'utf8'))![1]!;
  const monmap = join(dir, 'monmap');
  await cluster.run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', monitor, monmap]);
  await cluster.run('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', monmap]);
  cluster.daemon('ceph-mon', ['-i', 'a']);
  const osdUuid = randomUUID();
  const created = await cluster.run('ceph', ['--connect-timeout', '20', 'osd', 'new', osdUuid]);
  const osdId = created.stdout.toString().trim();
  await cluster.run('ceph-osd', ['-i', osdId, '--mkfs', '--osd-uuid', osdUuid]);
  cluster.daemon('ceph-osd', ['-i', osdId]);
  await pollUntil('the OSD', async () => {
    cluster.assertDaemonsAlive();
    const stat = await runProcess('ceph', ['-c', cluster.conf, '--connect-timeout', '5', 'osd', 'stat'], { timeoutMs: 10_000 });
    return /\b1 up\b/.test(stat.stdout.toString());
  });
  cluster.daemon('radosgw', ['-n', 'client.rgw.a']);
  await pollUntil('the gateway', async () => {
    cluster.assertDaemonsAlive();
    return httpAnswers(`http://127.0.0.1:${rgwPort}/`);
  });
  await createS3User(cluster, keys);
  return rgwPort;
}

export interface GatewayOptions {
  /** The S3 port (default: a free one); the monitor always gets free ports. */
  port?: number;
  /** The gateway user's keys (default: fresh random ones). */
  keys?: S3Keys;
  /** The in-memory store's capacity (default 1 GiB): every byte written stays in RAM until the gateway's garbage collection. */
  memstoreBytes?: number;
}

/** Starts a gateway, or resolves with the reason it cannot (missing binaries, a failed start). */
export async function startCephGateway(options: GatewayOptions = {}): Promise<CephGateway | { skip: string }> {
  const missing = missingBinary();
  if (missing) return { skip: missing };
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ceph-'));
  const cluster = new Cluster(dir);
  const keys = options.keys ?? newKeys();
  const started = Date.now();
  let port: number;
  try {
    port = await startCluster(cluster, keys, options);
  } catch (error) {
    const logs = ['mon.a', 'osd.0', 'client.rgw.a'].map((name) => `--- ${name}.log ---\n${tail(join(dir, 'log', `${name}.log`))}`).join('\n');
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    return { skip: `the Ceph gateway could not start: ${(error as Error).message}\n${logs}` };
  }
  const startupMs = Date.now() - started;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const gateway: CephGateway = {
    endpoint,
    ...keys,
    region: 'us-east-1',
    dir,
    startupMs,
    client(credentials = keys) {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.push(client);
      return client;
    },
    async createUser() {
      const other = newKeys();
      await createS3User(cluster, other);
      return other;
    },
    async createBucket(bucket = `ferry-${randomBytes(6).toString('hex')}`) {
      await gateway.client().send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async stop() {
      for (const client of clients.splice(0)) client.destroy();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return gateway;
}

/**
 * One gateway for a whole test file, started at import (top-level await) so tests can
 * be skipped by `skip`; stopped after the file's tests.
 */
export async function cephGatewayForFile(options: GatewayOptions = {}): Promise<{ gateway: CephGateway | null; skip: string | false }> {
  const started = await startCephGateway(options);
  if ('skip' in started) return { gateway: null, skip: started.skip };
  after(() => started.stop());
  return { gateway: started, skip: false };
}
