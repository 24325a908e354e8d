/**
 * Ferry on both ends of a simulated network (test/helpers/netns.ts): `ferry serve` in the
 * server namespace with its JSON log collected, and the `ferry` client commands (and other
 * programs) in the client namespace with a clean HOME and the password in FERRY_PASSWORD.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCurl, type CurlRun } from '../helpers/curl.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { addUser } from '../helpers/users-file.js';
import type { Topology } from '../helpers/netns.js';
import { clientEnv, stopChild, type ProcessResult } from '../helpers/run-process.js';
import { ServerLog, type LogEntry } from '../helpers/server-log.js';
import { waitFor } from '../helpers/timing.js';
import { FERRY_BIN } from '../client/support.js';

export const USER = 'alice';
export const PASSWORD = 'netns-secret';
/** Small, so a firewall's drops cost seconds and not the whole file's time budget. */
export const PASSIVE_PORTS = '50000-50049';
/** Seconds the server waits for a data connection (default 30: too long for tests). */
export const DATA_CONNECT_SECONDS = 2;
/**
 * The client's reply and connect timeout: short, as nothing here is slow except what is
 * broken, yet well past DATA_CONNECT_SECONDS, so the server's 425 comes first.
 */
export const CLIENT_TIMEOUT_SECONDS = 5;

/** A users file with USER/PASSWORD, made with `ferry user add` (password on stdin). */
export function writeUsersFile(dir: string): string {
  return addUser(join(dir, 'users.toml'), USER, PASSWORD);
}

export interface NamespacedFerry {
  port: number;
  log: ServerLog;
  /** Every stderr line, JSON or not (for failure messages). */
  stderr: string[];
  /** Resolves with the first log entry from `from` on that matches, or null after `timeoutMs`. */
  waitForEntry(match: (entry: LogEntry) => boolean, timeoutMs: number, from?: number): Promise<LogEntry | null>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  root: string;
  users: string;
  /** Scratch folder for the config file. */
  dir: string;
  masquerade?: string;
  tls?: { cert: string; key: string };
  /** More `ferry serve` flags. */
  flags?: readonly string[];
}

/**
 * `ferry serve` on 0.0.0.0, port 0, in the server namespace, logging JSON on stderr. The
 * config file sets what has no flag: a short data-connect timeout, no port 20.
 */
export async function serveInNamespace(topology: Topology, options: ServeOptions): Promise<NamespacedFerry> {
  const config = join(options.dir, `ferry-${Date.now()}-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(config, `[timeouts]\ndata_connect = ${DATA_CONNECT_SECONDS}\n\n[active]\nconnect_from_port_20 = false\n`);
  const args = [
    FERRY_BIN, 'serve', '--config', config, '--host', '0.0.0.0', '--port', '0', '--root', options.root, '--users', options.users,
    '--passive-ports', PASSIVE_PORTS, '--log-format', 'json',
    ...(options.masquerade ? ['--masquerade', options.masquerade] : []),
    ...(options.tls ? ['--tls-cert', options.tls.cert, '--tls-key', options.tls.key, '--implicit-port', '0'] : []),
    ...(options.flags ?? []),
  ];
  const child = topology.spawn(topology.server, process.execPath, args);
  const log = new ServerLog();
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (line.startsWith('{')) log.destination.write(line);
  });
  const port = await waitForReady(child).port.catch((error: Error) => {
    throw new Error(`${error.message}\n--- stderr ---\n${stderr.join('\n')}`);
  });
  return {
    port,
    log,
    stderr,
    async waitForEntry(match, timeoutMs, from = 0) {
      const find = () => log.entries.slice(from).find(match) ?? null;
      await waitFor(() => find() !== null, timeoutMs);
      return find();
    },
    stop: () => stopChild(child),
  };
}

/** Runs `work` with a scratch HOME (no ~/.netrc, ~/.curlrc from the host), removed afterwards. */
async function withScratchHome<T>(work: (home: string) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), 'ferry-netns-home-'));
  try {
    return await work(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Runs a program in the client namespace with a scratch HOME and FERRY_PASSWORD. */
export function runInClient(topology: Topology, file: string, args: readonly string[], timeoutMs = 20_000): Promise<ProcessResult> {
  return withScratchHome((home) => topology.exec(topology.client, file, args, { cwd: home, env: { ...clientEnv(home), FERRY_PASSWORD: PASSWORD }, timeoutMs }));
}

/** curl (test/helpers/curl.ts: --verbose, bounded times) in the client namespace, logging in as USER. */
export function curlInClient(topology: Topology, args: readonly string[]): Promise<CurlRun> {
  return withScratchHome((home) =>
    runCurl(['--connect-timeout', String(CLIENT_TIMEOUT_SECONDS), ...args], {
      user: `${USER}:${PASSWORD}`,
      maxTimeSeconds: 15,
      cwd: home,
      env: clientEnv(home),
      timeoutMs: 20_000,
      run: (file, curlArgs, options) => topology.exec(topology.client, file, curlArgs, options),
    }),
  );
}

/** `ferry ARGS` in the client namespace. */
export function ferryInClient(topology: Topology, args: readonly string[], timeoutMs?: number): Promise<ProcessResult> {
  return runInClient(topology, process.execPath, [FERRY_BIN, ...args], timeoutMs);
}

/** ftp://USER@HOST:PORT/PATH as the client dials it. */
export function ftpUrl(topology: Topology, port: number, path = ''): string {
  return `ftp://${USER}@${topology.addresses.serverFromClient}:${port}/${path}`;
}

/** A folder for downloads inside `dir`. */
export function downloadsDir(dir: string, name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}
