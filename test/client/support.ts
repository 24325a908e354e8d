/**
 * Shared pieces of the client tests: test data and hashes, a Ferry server built the way
 * test/helpers/server.ts builds it but keeping listen()'s result (so the implicit FTPS
 * port is known) and optionally with TLS, a self-signed certificate made once per test
 * process with `ferry cert`, a trace recorder, and running the real `ferry` binary with a
 * hard timeout.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { FileAuthenticator } from '../../src/auth/file-authenticator.js';
import { hashPassword } from '../../src/auth/password.js';
import { READ_ONLY } from '../../src/auth/permissions.js';
import type { UserRecord } from '../../src/auth/users-file.js';
import { mergeConfig, validateConfig } from '../../src/config/load.js';
import { FtpServer } from '../../src/server/server.js';

export const USER = 'alice';
export const PASSWORD = 'secret';
export const READONLY_USER = 'bob';

/** The repository root (this file runs as dist/test/client/support.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Every byte value 0..255, repeated 257 times (65,792 bytes): a binary-safety probe. */
export const ALL_BYTES: Buffer = Buffer.from(Array.from({ length: 256 * 257 }, (_, i) => i % 256));

export const RANDOM_SIZE = 3 * 1024 * 1024 + 12345;
let random: Buffer | undefined;
/** A few MiB of random bytes (an odd size), made once per test process. */
export function randomData(): Buffer {
  random ??= randomBytes(RANDOM_SIZE);
  return random;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A scratch folder removed by the returned function. */
export function scratchDir(prefix = 'ferry-client-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port that was free a moment ago (bound on port 0, then closed): nothing listens there. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Collects trace lines. */
export function recorder(): { lines: string[]; trace: (line: string) => void; since(mark: number): string[] } {
  const lines: string[] = [];
  return { lines, trace: (line) => lines.push(line), since: (mark) => lines.slice(mark) };
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
// Certificate and server
// ---------------------------------------------------------------------------------------

export interface Certificate {
  cert: string; // path
  key: string; // path
  certPem: string;
}

let certificate: Promise<Certificate> | undefined;
/** A self-signed certificate made once per test process with `node bin/ferry.js cert`. */
export function testCertificate(): Promise<Certificate> {
  certificate ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-client-cert-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await promisify(execFile)(process.execPath, [FERRY_BIN, 'cert', '--out', dir], { timeout: 30_000 });
    const cert = join(dir, 'cert.pem');
    return { cert, key: join(dir, 'key.pem'), certPem: readFileSync(cert, 'utf8') };
  })();
  return certificate;
}

export interface FerryFixture {
  server: FtpServer;
  host: string;
  port: number;
  /** The implicit FTPS port when TLS is on. */
  implicitPort: number | null;
  /** Host folder that is "/" for alice and bob. */
  root: string;
  certificate?: Certificate;
  stop(): Promise<void>;
}

let cachedHash: Promise<string> | undefined;

/**
 * An in-process Ferry on 127.0.0.1, port 0 (alice/secret read-write, bob/secret
 * read-only); with `tls`, TLS mode "optional" and an implicit listener on port 0.
 */
export async function startFerry(options: { tls?: boolean; overrides?: Record<string, unknown> } = {}): Promise<FerryFixture> {
  const base = mkdtempSync(join(tmpdir(), 'ferry-client-server-'));
  const root = join(base, 'root');
  mkdirSync(root);
  const cert = options.tls ? await testCertificate() : undefined;
  const config = validateConfig(
    mergeConfig(
      mergeConfig(
        {
          host: '127.0.0.1',
          port: 0,
          root,
          passive: { ports: '0' },
          // Never port 20: tests run in parallel and may run as root.
          active: { connect_from_port_20: false },
          log: { level: process.env.FERRY_TEST_LOG ?? 'silent' },
          shutdown_grace: 1,
        },
        cert ? { tls: { cert: cert.cert, key: cert.key, mode: 'optional', implicit_port: 0 } } : {},
      ),
      options.overrides ?? {},
    ),
    'test',
  );
  cachedHash ??= hashPassword(PASSWORD);
  const hash = await cachedHash;
  const users = new Map<string, UserRecord>([
    [USER, { passwordHash: hash }],
    [READONLY_USER, { passwordHash: hash, permissions: READ_ONLY }],
  ]);
  const authenticator = new FileAuthenticator({ lookup: (name) => users.get(name), defaultHome: root });
  const server = new FtpServer({ config, authenticator, logger: pino({ level: config.log.level }) });
  const bound = await server.listen();
  return {
    server,
    host: bound.address,
    port: bound.port,
    implicitPort: bound.implicitPort,
    root,
    certificate: cert,
    stop: async () => {
      await server.close(200);
      rmSync(base, { recursive: true, force: true });
    },
  };
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

/**
 * Runs `node bin/ferry.js ARGS` with no terminal and a clean environment: HOME is an
 * empty scratch folder (no ~/.netrc), NETRC and FERRY_PASSWORD only when given.
 */
export function runFerry(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const home = mkdtempSync(join(tmpdir(), 'ferry-client-home-'));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], { cwd: options.cwd ?? home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      stderr += `\n[test] killed after ${options.timeoutMs ?? CLI_TIMEOUT_MS} ms\n`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CLI_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      const out = Buffer.concat(stdout);
      resolveRun({
        code,
        signal,
        stdout: out,
        stderr,
        describe: () => `ferry ${args.join(' ')} -> exit ${code}${signal ? ` (${signal})` : ''}\n--- stdout:\n${out.toString('utf8').slice(0, 2000)}\n--- stderr:\n${stderr.slice(0, 4000)}`,
      });
    });
  });
}

