/**
 * What the private third-party FTP servers of the tests and the benchmark (vsftpd,
 * ProFTPD, Pure-FTPd) have in common: a temporary folder for each, free loopback ports
 * for the control connection and a passive range, starting the server as a foreground
 * child and waiting for its 220, files in the served folder owned by the FTP user, random
 * passwords and their crypt() hashes for the servers' own user files.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateCertificate, type CertificateFiles } from './certificate.js';
import { killOnExit, stopChild } from './run-process.js';

/** A running third-party server, as the client tests and the benchmark see it. */
export interface FtpDaemonInstance {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The FTP user's numeric ids (what the served files are owned by). */
  uid: number;
  gid: number;
  /** Host folder that is "/" for the user (chrooted). */
  root: string;
  /** Explicit FTPS (AUTH TLS) is enabled. */
  tls: boolean;
  /** The self-signed certificate (PEM) when `tls`. */
  certPem?: string;
  pid: number;
  /** The private passive range, or null when any free port is used. */
  pasvRange: { min: number; max: number } | null;
  /** Writes a file under `root` (folders created) owned by the FTP user. */
  writeFile(relative: string, data: Buffer | string): string;
  /** Creates a folder (and its parents) under `root` owned by the FTP user. */
  mkdir(relative: string): string;
  /** The server's own output so far. */
  output(): string;
  /** Ends the server (only the PID it started) and removes everything it was given. */
  stop(): Promise<void>;
}

/**
 * How the benchmark adapts the unpacked peer servers (ProFTPD, Pure-FTPd) to the setup
 * Ferry and vsftpd get there; the client tests use the defaults.
 */
export interface PeerServerOptions {
  /** Explicit FTPS with a fresh self-signed certificate. */
  tls?: boolean;
  /** Explicit FTPS with this certificate instead. */
  certificate?: CertificateFiles;
  /** Serve this existing folder (its owner and modes stay the caller's) instead of a fresh one. */
  root?: string;
  /** Passive connections on any free port instead of a private range. */
  anyPassivePort?: boolean;
  /** Sessions admitted at once, instead of the helper's small default. */
  maxSessions?: number;
}

/** The certificate a peer server uses: the one given, a fresh one in `dir` for `tls`, or none. */
export function peerCertificate(options: PeerServerOptions, dir: string): CertificateFiles | null {
  return options.certificate ?? (options.tls ? generateCertificate(dir) : null);
}

/** Passive ports reserved per instance. */
export const PASV_RANGE_SIZE = 16;
const START_TIMEOUT_MS = 10_000;
/** How the servers say that their port was taken between our probe and their bind. */
const BIND_FAILURE = /could not bind|unable to bind|address already in use/i;

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => (s.listening ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)));
}

/** A port the OS says is free right now (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  await closeAll([server]);
  return port;
}

/** `count` consecutive ports that could all be bound a moment ago (bounded attempts). */
export async function freePortRange(count = PASV_RANGE_SIZE): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count - 1 > 65535) continue;
    const servers: Server[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const server = createServer();
      servers.push(server);
      ok = await listen(server, port);
    }
    await closeAll(servers);
    if (ok) return { min: base, max: base + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Resolves with the first line the server sends, or rejects (refused, timeout). */
function greeting(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => finish(new Error('no greeting')), timeoutMs);
    function finish(error: Error | null, line?: string) {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line!);
    }
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) {
        socket.write('QUIT\r\n');
        finish(null, text.slice(0, end).trim());
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('closed before the greeting')));
  });
}

/** What to run for a given control port (the callback may write a config file naming it first). */
export interface DaemonCommand {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface LaunchedDaemon {
  port: number;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
}

/**
 * Starts `command(port)` as a foreground child on a free port and resolves once that
 * port answers 220. The port can be taken between our probe and the server's bind, so a
 * start that fails with a bind error is retried on another port (3 tries). Throws with
 * the server's output when it does not come up. The child is killed if the test process
 * exits without stopping it.
 */
export async function launchFtpDaemon(name: string, command: (port: number) => DaemonCommand): Promise<LaunchedDaemon> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { file, args, env } = command(port);
    let output = '';
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.on('error', (error) => (output += `spawn error: ${error.message}\n`));
    let exited = false;
    child.once('exit', () => (exited = true));
    killOnExit(child);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let line: string | null = null;
    while (!exited && Date.now() < deadline) {
      line = await greeting(port, 1000).catch(() => null);
      if (line !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (line?.startsWith('220')) return { port, child, output: () => output };
    await stopChild(child);
    if (!BIND_FAILURE.test(output) || attempt >= 3) throw new Error(`${name} did not start (greeting: ${line ?? 'none'}): ${output.trim() || '(no output)'}`);
  }
}

/**
 * A fresh temporary folder for one server (its config files go in `base`) with `root`,
 * the folder it serves, below it. Both are searchable by everyone: the FTP user must
 * reach `root`; the caller gives `root` to that user.
 */
export function serverFolder(prefix: string): { base: string; root: string } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(base, 0o755);
  const root = join(base, 'root');
  mkdirSync(root, { mode: 0o755 });
  return { base, root };
}

/**
 * The folders of a peer server: `serverFolder`'s, with `root` either the caller's
 * (`options.root`, left as it is) or the fresh one given to the FTP user.
 */
export function peerFolder(prefix: string, options: PeerServerOptions, uid: number, gid: number): { base: string; root: string } {
  const folder = serverFolder(prefix);
  if (options.root) return { base: folder.base, root: options.root };
  chownSync(folder.root, uid, gid);
  return folder;
}

/** What a server's start knows besides the launched daemon. */
export interface DaemonSetup {
  user: string;
  password: string;
  uid: number;
  gid: number;
  root: string;
  certificate: CertificateFiles | null;
  pasvRange: { min: number; max: number } | null;
  /** Removes what the start made (folders, accounts); runs after the daemon has stopped. */
  cleanUp(): void;
  /** The server's output, when it has more than stdout and stderr (a log file). */
  output?: () => string;
}

/** The instance for a daemon that `launchFtpDaemon` started. */
export function daemonInstance(daemon: LaunchedDaemon, setup: DaemonSetup): FtpDaemonInstance {
  return {
    host: '127.0.0.1',
    port: daemon.port,
    user: setup.user,
    password: setup.password,
    uid: setup.uid,
    gid: setup.gid,
    root: setup.root,
    tls: setup.certificate !== null,
    certPem: setup.certificate ? readFileSync(setup.certificate.cert, 'utf8') : undefined,
    pid: daemon.child.pid!,
    pasvRange: setup.pasvRange,
    ...servedTree(setup.root, setup.uid, setup.gid),
    output: setup.output ?? daemon.output,
    stop: async () => {
      await stopChild(daemon.child);
      setup.cleanUp();
    },
  };
}

/** `writeFile` and `mkdir` for a served folder: what they create belongs to the FTP user. */
export function servedTree(root: string, uid: number, gid: number): Pick<FtpDaemonInstance, 'writeFile' | 'mkdir'> {
  const mkdir = (relative: string): string => {
    let path = root;
    for (const part of relative.split('/').filter((p) => p && p !== '.')) {
      path = join(path, part);
      if (!existsSync(path)) {
        mkdirSync(path, { mode: 0o755 });
        chownSync(path, uid, gid);
      }
    }
    return path;
  };
  return {
    mkdir,
    writeFile(relative, data) {
      const path = join(root, relative);
      mkdir(dirname(relative));
      writeFileSync(path, data);
      chownSync(path, uid, gid);
      return path;
    },
  };
}

/** A fresh password for one run (URL-safe, so it also works in ftp:// URLs). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A SHA-512 crypt() hash ("$6$...") of `password`, for passwd-style user files (openssl; the password goes on stdin, not argv). */
export function cryptHash(password: string): string {
  return execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n`, encoding: 'utf8', timeout: 10_000 }).trim();
}
