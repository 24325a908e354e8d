/**
 * Running other programs from tests (curl, lftp, python3, the ferry binary): an argument
 * vector (never a shell), stdin closed, stdout and stderr collected, and a hard timeout
 * so a hung program fails its test instead of CI. Also: finding programs on PATH, a
 * clean environment for FTP clients, readable failure messages, and stopping the
 * servers tests start as child processes (only the PID they started).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import { constants as osConstants } from 'node:os';

/** The default upper bound for one run. */
export const PROCESS_TIMEOUT_MS = 60_000;

export interface ProcessResult {
  /** Exit code; null when killed by a signal (e.g. after the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the run was killed (SIGKILL) for taking longer than its timeout. */
  timedOut: boolean;
  stdout: Buffer;
  stderr: string;
}

/** A run of an FTP client that logged its control dialogue. */
export interface DialogueRun extends ProcessResult {
  /** Command lines the client sent (passwords as the client logged them). */
  sent: string[];
  /** Reply lines the client received. */
  received: string[];
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the program's stdin, which is then closed (default: no stdin at all); a stream is piped, at the program's pace. */
  input?: Buffer | Readable;
  /** Called once the program runs (to send it a signal, say). */
  onStart?: (child: ChildProcess) => void;
}

/**
 * Runs `file` with `args` and resolves whatever the exit status; rejects only when it
 * cannot be started.
 */
export function runProcess(file: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (options.input) {
      child.stdin!.on('error', () => undefined); // a program that exits without reading it all
      if (Buffer.isBuffer(options.input)) child.stdin!.end(options.input);
      else options.input.pipe(child.stdin!);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? PROCESS_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    options.onStart?.(child);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A readable account of a run for assertion messages (stdout too when it is short). */
export function describeRun(what: string, result: ProcessResult): string {
  const status = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  const stderr = result.stderr.length > 6000 ? '...' + result.stderr.slice(-6000) : result.stderr;
  const stdout = result.stdout.length > 2000 ? '' : result.stdout.toString('utf8');
  return `${what}: ${status}\n--- stderr ---\n${stderr}${stdout ? `\n--- stdout ---\n${stdout}` : ''}`;
}

/** Throws (with the program's output) unless it exited 0. */
export function assertExitOk(what: string, result: ProcessResult): void {
  if (result.code !== 0) throw new Error(describeRun(what, result));
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

/** For `{ skip }`: false when the program is installed, else the reason to skip. */
export function skipUnlessInstalled(name: string): false | string {
  return findBinary(name) === null ? `${name} is not installed (not found on PATH)` : false;
}

/**
 * Environment for FTP client processes: HOME points at a scratch folder (no ~/.curlrc,
 * ~/.netrc, ~/.lftprc, ~/.wgetrc, rclone config or lftp state from the host), proxies,
 * SSL/GnuTLS overrides and RCLONE_* settings are removed, the locale is UTF-8 so
 * non-ASCII names survive, and the time zone is UTC.
 */
export function clientEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/proxy$/i.test(key) || /^(LC_|LANG|LANGUAGE$|CURL_|PYTHON|XDG_|LFTP|SSL_|SSLKEYLOGFILE|GNUTLS_|WGETRC$|RCLONE_)/.test(key) || key === 'HOME') continue;
    env[key] = value;
  }
  return { ...env, HOME: home, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', TZ: 'UTC' };
}

/**
 * Node does not run 'exit' handlers when a signal ends the process (the test runner's
 * timeout, Ctrl-C): once a test has a server to end, those signals exit through them.
 */
let exitOnSignals = false;
function runExitHandlersOnSignals(): void {
  if (exitOnSignals) return;
  exitOnSignals = true;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(128 + osConstants.signals[signal]));
  }
}

/** Ends a long-running child (a server) when the test process exits without stopping it, also on SIGTERM/SIGINT/SIGHUP. */
export function killOnExit(child: ChildProcess): void {
  runExitHandlersOnSignals();
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** SIGTERM to that one child, SIGKILL after 3 s; resolves once it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit').catch(() => undefined);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
