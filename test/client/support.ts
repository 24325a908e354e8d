/**
 * Shared pieces of the client tests (the generic ones live in test/helpers/): the client
 * tests' random data, an in-process Ferry (test/helpers/server.ts's, optionally with TLS
 * mode "optional"), connecting an FtpClient to a server and running some work with it,
 * collecting downloads in memory, a trace recorder, and running the real `ferry` binary.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FtpClient, type FtpClientOptions } from '../../src/client/client.js';
import { FtpClientError } from '../../src/client/errors.js';
import { mergeConfig } from '../../src/config/load.js';
import { ALL_BYTES, randomData as randomDataOfSize, sha256File } from '../helpers/data.js';
import { runProcess, type RunOptions } from '../helpers/run-process.js';
import { startServer, USER, type TestServer } from '../helpers/server.js';
import { withTimeout } from '../helpers/timing.js';

/** The repository root (this file runs as dist/test/client/support.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');

/** The size of the client tests' random file: a few MiB, an odd size. */
export const RANDOM_SIZE = 3 * 1024 * 1024 + 12345;

/** The client tests' random file contents (RANDOM_SIZE bytes), made once per test process. */
export function randomData(): Buffer {
  return randomDataOfSize(RANDOM_SIZE);
}

/** Large enough that a download cannot finish before it is cancelled. */
export const BIG_SIZE = 32 * 1024 * 1024;

/**
 * The files every client suite starts with on its server, handed to `write`:
 * all-bytes.bin (ALL_BYTES), random.bin (randomData()) and big.bin (BIG_SIZE bytes, each
 * 4 KiB block starting with its own offset).
 */
export function writeServerFiles(write: (name: string, data: Buffer) => void): void {
  write('all-bytes.bin', ALL_BYTES);
  write('random.bin', randomData());
  const big = Buffer.alloc(BIG_SIZE);
  for (let i = 0; i < BIG_SIZE; i += 4096) big.writeUInt32BE(i, i);
  write('big.bin', big);
}

export { closedPort } from '../helpers/ports.js';

/** Collects trace lines. */
export function recorder(): { lines: string[]; trace: (line: string) => void; since(mark: number): string[] } {
  const lines: string[] = [];
  return { lines, trace: (line) => lines.push(line), since: (mark) => lines.slice(mark) };
}

/** relative path -> modification time in whole seconds of every file under `dir`. */
export function fileTimes(dir: string, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, fileTimes(join(dir, entry.name), rel));
    else out[rel] = Math.floor(statSync(join(dir, entry.name)).mtimeMs / 1000);
  }
  return out;
}

/** relative path -> sha256 of every file under `dir` (folders as "dir/" -> "dir"). */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      const rel = relative(dir, path).split('\\').join('/');
      if (entry.isDirectory()) {
        out.set(`${rel}/`, 'dir');
        walk(path);
      } else if (entry.isFile()) out.set(rel, sha256File(path));
    }
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------------------------------
// Ferry in-process
// ---------------------------------------------------------------------------------------

export type FerryFixture = TestServer;

/**
 * An in-process Ferry on 127.0.0.1, port 0 (alice/secret read-write, bob/secret
 * read-only), never connecting from port 20; with `tls`, TLS mode "optional" and an
 * implicit listener on port 0.
 */
export function startFerry(options: { tls?: boolean; overrides?: Record<string, unknown> } = {}): Promise<FerryFixture> {
  const defaults = {
    // Never port 20: tests run in parallel and may run as root.
    active: { connect_from_port_20: false },
    ...(options.tls ? { tls: { mode: 'optional' } } : {}),
  };
  return startServer(mergeConfig(defaults, options.overrides ?? {}), { tls: options.tls });
}

// ---------------------------------------------------------------------------------------
// The client library against a server
// ---------------------------------------------------------------------------------------

/** Where and as whom a client logs in. */
export interface ClientTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** How long one `withClient` may run before it fails. */
const CLIENT_WORK_TIMEOUT_MS = 60_000;

/**
 * `options(extra)` (the target's login with a 10 s timeout, then `extra`) and
 * `withClient(extra, work)` (connect, run `work` within 60 s, always close) for one
 * server. `target` is called when a client connects, so it may name a server that a
 * `before()` hook starts later.
 */
export function clientSessions(target: () => ClientTarget): {
  options(extra?: Partial<FtpClientOptions>): FtpClientOptions;
  withClient<T>(extra: Partial<FtpClientOptions>, work: (client: FtpClient) => Promise<T>): Promise<T>;
} {
  const options = (extra: Partial<FtpClientOptions> = {}): FtpClientOptions => {
    const { host, port, user, password } = target();
    return { host, port, user, password, timeoutMs: 10_000, ...extra };
  };
  const withClient = async <T>(extra: Partial<FtpClientOptions>, work: (client: FtpClient) => Promise<T>): Promise<T> => {
    const client = await FtpClient.connect(options(extra));
    try {
      return await withTimeout(work(client), CLIENT_WORK_TIMEOUT_MS, 'client work');
    } finally {
      await client.close();
    }
  };
  return { options, withClient };
}

/** A Writable that keeps what it is given. */
export function memorySink(): { sink: Writable; data: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    sink: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
    data: () => Buffer.concat(chunks),
  };
}

export async function downloadToBuffer(client: FtpClient, path: string): Promise<Buffer> {
  const { sink, data } = memorySink();
  await client.download(path, sink);
  return data();
}

/** Asserts that `promise` rejects with an FtpClientError of `kind` (and `code`, when given). */
export async function rejectsWith(promise: Promise<unknown>, kind: FtpClientError['kind'], code?: number): Promise<FtpClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FtpClientError, `expected an FtpClientError, got ${String(error)}`);
    assert.equal(error.kind, kind, `kind of "${error.message}"`);
    if (code !== undefined) assert.equal(error.code, code, `code of "${error.message}"`);
    return error;
  }
  assert.fail(`expected a rejection with kind ${kind}`);
}

/** Downloads big.bin into `sink` and aborts after 256 KiB; asserts the download rejects with kind "aborted". */
export async function abortBigDownload(client: FtpClient, sink: Writable = memorySink().sink): Promise<void> {
  const controller = new AbortController();
  await rejectsWith(
    client.download('big.bin', sink, {
      signal: controller.signal,
      onProgress: ({ bytes }) => {
        if (bytes >= 256 * 1024) controller.abort();
      },
    }),
    'aborted',
  );
}

// ---------------------------------------------------------------------------------------
// The ferry binary
// ---------------------------------------------------------------------------------------

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** For assertion messages. */
  describe(): string;
}

export const CLI_TIMEOUT_MS = 30_000;

/** ftp://USER@127.0.0.1:PORT/PATH (the fixture's read-write user; `null` for none). */
export function ferryUrl(port: number, path = '', user: string | null = USER): string {
  return `ftp://${user === null ? '' : `${user}@`}127.0.0.1:${port}/${path}`;
}

/** Asserts that a `ferry` run exited 0, and returns it. */
export function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, result.describe());
  return result;
}

/**
 * Runs `node bin/ferry.js ARGS` with no terminal and a clean environment: HOME is an
 * empty scratch folder (no ~/.netrc), NETRC and FERRY_PASSWORD only when given; stdin
 * only with `input`; `onStart` gets the child (to send it a signal).
 */
export async function runFerry(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } & Pick<RunOptions, 'input' | 'onStart'> = {},
): Promise<CliResult> {
  const home = mkdtempSync(join(tmpdir(), 'ferry-client-home-'));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
  let result;
  try {
    result = await runProcess(process.execPath, [FERRY_BIN, ...args], { cwd: options.cwd ?? home, env, timeoutMs, input: options.input, onStart: options.onStart });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const { code, signal, stdout } = result;
  const stderr = result.timedOut ? `${result.stderr}\n[test] killed after ${timeoutMs} ms\n` : result.stderr;
  return {
    code,
    signal,
    stdout,
    stderr,
    describe: () => `ferry ${args.join(' ')} -> exit ${code}${signal ? ` (${signal})` : ''}\n--- stdout:\n${stdout.toString('utf8').slice(0, 2000)}\n--- stderr:\n${stderr.slice(0, 4000)}`,
  };
}
