/**
 * Shared pieces of the interoperability tests: running real FTP clients (curl, Python
 * ftplib, lftp) as child processes with a timeout, the test data (every byte value, a
 * multi-megabyte random file, names with spaces and CJK characters), hashing files and
 * whole trees, and a Ferry server plus a scratch folder per test.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';

/** Upper bound for any one client run; a hung client fails its test instead of CI. */
export const CLIENT_TIMEOUT_MS = 60_000;

export const SPACED_NAME = 'name with spaces.txt';
export const CJK_NAME = '中文文件名.txt';

/** Every byte value 0..255, repeated 257 times (65,792 bytes). */
export const ALL_BYTES: Buffer = Buffer.from(Array.from({ length: 256 * 257 }, (_, i) => i % 256));

export const RANDOM_SIZE = 5 * 1024 * 1024;
let random: Buffer | undefined;
/** 5 MiB of random bytes, made once per test process. */
export function randomData(): Buffer {
  random ??= randomBytes(RANDOM_SIZE);
  return random;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Absolute path of an executable on PATH, or null. */
export function findBinary(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** For `{ skip }`: false when the client is installed, else the reason to skip. */
export function skipUnlessInstalled(name: string): false | string {
  return findBinary(name) === null ? `${name} is not installed (not found on PATH)` : false;
}

/** True when this host can listen on the IPv6 loopback address. */
export async function ipv6LoopbackAvailable(): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

export interface ClientResult {
  /** Exit code; null when killed by a signal (e.g. after the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Runs a client with an argument vector (never a shell), stdin closed, and a hard
 * timeout. Resolves whatever the exit status; rejects only when it cannot be started.
 */
export function runClient(file: string, args: readonly string[], options: RunOptions = {}): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CLIENT_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A readable account of a client run for assertion messages. */
export function describeRun(what: string, result: ClientResult): string {
  const status = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  const stderr = result.stderr.length > 6000 ? '...' + result.stderr.slice(-6000) : result.stderr;
  return `${what}: ${status}\n--- stderr ---\n${stderr}`;
}

/** Throws (with the client's stderr) unless the client exited 0. */
export function assertExitOk(what: string, result: ClientResult): void {
  if (result.code !== 0) throw new Error(describeRun(what, result));
}

/**
 * Environment for client processes: HOME points at the test's scratch folder (no
 * ~/.curlrc, ~/.netrc, ~/.lftprc or lftp state from the host), proxies are removed,
 * the locale is UTF-8 so non-ASCII names survive, and the time zone is UTC.
 */
export function clientEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/proxy$/i.test(key) || /^(LC_|LANG|LANGUAGE$|CURL_|PYTHON|XDG_|LFTP)/.test(key) || key === 'HOME') continue;
    env[key] = value;
  }
  return { ...env, HOME: home, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', TZ: 'UTC' };
}

export interface InteropContext {
  server: TestServer;
  /** Scratch folder on the client side (also the clients' HOME). */
  local: string;
  env: NodeJS.ProcessEnv;
}

/** Starts a server and a scratch folder, runs `fn`, then removes both. */
export async function withServer(overrides: Record<string, unknown>, fn: (context: InteropContext) => Promise<void>): Promise<void> {
  const server = await startServer(overrides);
  const local = mkdtempSync(join(tmpdir(), 'ferry-interop-'));
  try {
    await fn({ server, local, env: clientEnv(local) });
  } finally {
    await server.stop();
    rmSync(local, { recursive: true, force: true });
  }
}

/**
 * Every entry below `dir` as relative path -> sha256 for files, "dir" for folders,
 * so two trees compare with one deepEqual (stray temporary files show up too).
 */
export function treeHashes(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      out[relative] = 'dir';
      Object.assign(out, treeHashes(full, relative));
    } else {
      out[relative] = sha256File(full);
    }
  }
  return out;
}

/** "ftp://host:port/a/b" with each path segment percent-encoded (UTF-8). */
export function ftpUrl(server: { host: string; port: number }, path = '/'): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  const encoded = path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `ftp://${host}:${server.port}${encoded.startsWith('/') ? '' : '/'}${encoded}`;
}

export interface ListLine {
  type: 'file' | 'directory';
  size: number;
  name: string;
}

/** Parses `ls -l` style LIST lines ("-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a name"). */
export function parseListLines(text: string): Map<string, ListLine> {
  const entries = new Map<string, ListLine>();
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const match = /^([-d])[-rwxsStT]{9}\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})\s(.+)$/.exec(line);
    if (!match) throw new Error(`unparseable LIST line: ${JSON.stringify(line)}`);
    entries.set(match[3]!, { type: match[1] === 'd' ? 'directory' : 'file', size: Number(match[2]), name: match[3]! });
  }
  return entries;
}
