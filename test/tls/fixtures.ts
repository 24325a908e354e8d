/**
 * Shared pieces of the FTPS tests:
 *
 * - a self-signed certificate made once per test process with the system openssl
 *   (and fresh pairs on demand, for the reload test);
 * - `startTlsServer()`, which builds a Ferry server the way test/helpers/server.ts does
 *   but keeps `listen()`'s result, so the implicit FTPS port is known, and accepts
 *   extra users (e.g. one with a per-user `tls` override);
 * - `FtpsClient`, a raw FTP client that can upgrade its control connection with
 *   AUTH TLS, connect implicitly, and open PROT P data connections that resume the
 *   control connection's TLS session (or deliberately do not);
 * - running real clients (curl, lftp, python3) with a hard timeout and a clean HOME;
 * - a recording TCP proxy that captures every control-connection byte both ways.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import pino from 'pino';
import { FileAuthenticator } from '../../src/auth/file-authenticator.js';
import { hashPassword } from '../../src/auth/password.js';
import { READ_ONLY } from '../../src/auth/permissions.js';
import type { UserRecord } from '../../src/auth/users-file.js';
import { mergeConfig, validateConfig } from '../../src/config/load.js';
import type { FerryConfig } from '../../src/config/schema.js';
import { encodeEprt, encodeHostPort, parseEpsvReply, parsePasvReply } from '../../src/protocol/address.js';
import { FtpServer } from '../../src/server/server.js';

export const USER = 'alice';
export const PASSWORD = 'secret';
export const READONLY_USER = 'bob';

// ---------------------------------------------------------------------------------------
// Test data and small utilities
// ---------------------------------------------------------------------------------------

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Every byte value 0..255, repeated 257 times (65,792 bytes): a binary-safety probe. */
export const ALL_BYTES: Buffer = Buffer.from(Array.from({ length: 256 * 257 }, (_, i) => i % 256));

export const RANDOM_SIZE = 5 * 1024 * 1024;
let random: Buffer | undefined;
/** 5 MiB of random bytes, made once per test process. */
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

/** Polls `condition` every 20 ms; false when it never held within `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** Every entry below `dir` as relative path -> sha256 for files, "dir" for folders. */
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

// ---------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------

export interface CertPair {
  cert: string;
  key: string;
}

/** Writes a fresh self-signed P-256 certificate for localhost/127.0.0.1 into `dir`. */
export function generateCert(dir: string, commonName = 'localhost'): CertPair {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2',
      '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
  );
  return { cert, key };
}

let sharedCertDir: string | undefined;
let shared: CertPair | undefined;

/** One certificate per test process (removed when the process exits). */
export function sharedCert(): CertPair {
  if (!shared) {
    sharedCertDir = mkdtempSync(join(tmpdir(), 'ferry-tls-cert-'));
    process.once('exit', () => rmSync(sharedCertDir!, { recursive: true, force: true }));
    shared = generateCert(sharedCertDir);
  }
  return shared;
}

/** The SHA-256 fingerprint of a PEM certificate, in Node's getPeerCertificate() format. */
export function certFingerprint(certPath: string): string {
  const pem = readFileSync(certPath, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .match(/../g)!
    .join(':');
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

export interface TlsTestServer {
  server: FtpServer;
  host: string;
  /** Control port (explicit FTPS with AUTH TLS, or plain FTP). */
  port: number;
  /** Implicit FTPS port, or null when that listener does not run. */
  implicitPort: number | null;
  /** Host folder that is "/" for alice, bob and the extra users. */
  root: string;
  anonymousRoot: string;
  /** This server's own copy of the certificate and key (safe to overwrite). */
  cert: string;
  key: string;
  /** Scratch folder next to the server's, for the test's own files. */
  scratch: string;
  config: FerryConfig;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** False: no certificate at all (TLS is off). Default true. */
  tls?: boolean;
  /** Extra users (password "secret"), e.g. `{ carol: { tls: 'required' } }`. */
  users?: Record<string, Omit<UserRecord, 'passwordHash'>>;
}

let cachedHash: Promise<string> | undefined;

/**
 * Starts Ferry in-process on 127.0.0.1 with OS-chosen ports (control, implicit FTPS and
 * passive), users alice (read-write) and bob (read-only), password "secret", and by
 * default a certificate (so tls.mode defaults to "required"). `overrides` are config
 * keys merged over these defaults.
 */
export async function startTlsServer(overrides: Record<string, unknown> = {}, options: StartOptions = {}): Promise<TlsTestServer> {
  const base = mkdtempSync(join(tmpdir(), 'ferry-tls-test-'));
  const root = join(base, 'root');
  const anonymousRoot = join(base, 'anon');
  const scratch = join(base, 'scratch');
  const certDir = join(base, 'tls');
  for (const dir of [root, anonymousRoot, scratch, certDir]) mkdirSync(dir);
  const cert = join(certDir, 'cert.pem');
  const key = join(certDir, 'key.pem');
  const withTls = options.tls !== false;
  if (withTls) {
    const source = sharedCert();
    copyFileSync(source.cert, cert);
    copyFileSync(source.key, key);
  }
  let server: FtpServer | undefined;
  try {
    const config = validateConfig(
      mergeConfig(
        {
          host: '127.0.0.1',
          port: 0,
          root,
          passive: { ports: '0' },
          log: { level: process.env.FERRY_TEST_LOG ?? 'silent' },
          shutdown_grace: 1,
          ...(withTls ? { tls: { cert, key, implicit_port: 0, handshake_timeout: 3 } } : {}),
        },
        overrides,
      ),
      'test',
    );
    cachedHash ??= hashPassword(PASSWORD);
    const hash = await cachedHash;
    const users = new Map<string, UserRecord>([
      [USER, { passwordHash: hash }],
      [READONLY_USER, { passwordHash: hash, permissions: READ_ONLY }],
    ]);
    for (const [name, record] of Object.entries(options.users ?? {})) users.set(name, { ...record, passwordHash: hash });
    const authenticator = new FileAuthenticator({
      lookup: (name) => users.get(name),
      defaultHome: root,
      anonymousRoot: config.anonymous.enabled ? anonymousRoot : undefined,
    });
    server = new FtpServer({ config, authenticator, logger: pino({ level: config.log.level }) });
    const bound = await server.listen();
    const running = server;
    return {
      server: running,
      host: bound.address,
      port: bound.port,
      implicitPort: bound.implicitPort,
      root,
      anonymousRoot,
      cert,
      key,
      scratch,
      config,
      stop: async () => {
        await running.close(200);
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
}

/** Starts a server, runs `fn`, then stops the server and removes its folders. */
export async function withTlsServer(
  overrides: Record<string, unknown>,
  fn: (server: TlsTestServer) => Promise<void>,
  options: StartOptions = {},
): Promise<void> {
  const server = await startTlsServer(overrides, options);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------
// Raw FTPS client
// ---------------------------------------------------------------------------------------

export interface FtpReply {
  code: number;
  /** Text of the last line (after "NNN "). */
  text: string;
  /** Every raw line, without CRLF. */
  lines: string[];
}

export type DataMode = 'PASV' | 'EPSV' | 'PORT' | 'EPRT';
export const DATA_MODES: readonly DataMode[] = ['PASV', 'EPSV', 'PORT', 'EPRT'];

/**
 * How the client treats a data connection: "resume" does TLS resuming the control
 * connection's session (what the server demands by default), "fresh" does a full TLS
 * handshake without a session, "clear" does no TLS (PROT C).
 */
export type DataTls = 'resume' | 'fresh' | 'clear';

export interface DownloadResult {
  data: Buffer;
  preliminary: FtpReply;
  final: FtpReply;
  /** Set when the data connection's TLS handshake failed or the connection broke. */
  dataError?: Error;
  /** Whether the client's data TLS session was a resumed one. */
  reused?: boolean;
}

export interface UploadResult {
  preliminary: FtpReply;
  final: FtpReply;
  dataError?: Error;
  reused?: boolean;
}

const REPLY_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 15_000;

/** Resolves once a client TLS socket is secure; rejects on error, close or timeout. */
function secureConnected(socket: TLSSocket, what: string): Promise<TLSSocket> {
  return withTimeout(
    new Promise<TLSSocket>((resolve, reject) => {
      const onError = (error: Error) => {
        socket.off('close', onClose);
        reject(error);
      };
      const onClose = () => {
        socket.off('error', onError);
        reject(new Error(`${what}: connection closed during the TLS handshake`));
      };
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('secureConnect', () => {
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.on('error', () => undefined);
        resolve(socket);
      });
    }),
    SOCKET_TIMEOUT_MS,
    what,
  );
}

export class FtpsClient {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private readonly replies: FtpReply[] = [];
  private readonly waiters: Array<(reply: FtpReply | Error) => void> = [];
  private pending: string[] = [];
  private ended: Error | null = null;
  /** The latest TLS session the server issued on the control connection. */
  session: Buffer | undefined;
  greeting!: FtpReply;
  /** The stream commands and replies travel on: TCP, or TLS over it. */
  io: Socket;

  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  private readonly onErrorBound = (error: Error) => this.fail(error);
  private readonly onCloseBound = () => this.fail(new Error('control connection closed'));

  private constructor(readonly tcp: Socket) {
    this.io = tcp;
    tcp.on('error', () => undefined);
    this.attach(tcp);
  }

  /** Plain TCP connection; reads the 220 greeting. */
  static async connect(host: string, port: number): Promise<FtpsClient> {
    const socket = netConnect({ host, port });
    socket.on('error', () => undefined);
    await withTimeout(
      Promise.race([
        once(socket, 'connect'),
        once(socket, 'error').then(([error]) => {
          throw error;
        }),
      ]),
      SOCKET_TIMEOUT_MS,
      'connect',
    );
    const client = new FtpsClient(socket);
    client.greeting = await client.read();
    return client;
  }

  /** Implicit FTPS: TLS straight away, then the greeting arrives over TLS. */
  static async connectImplicit(host: string, port: number): Promise<FtpsClient> {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false });
    const client = new FtpsClient(socket);
    socket.on('session', (session: Buffer) => (client.session = session));
    await secureConnected(socket, 'implicit TLS handshake');
    await client.waitForSession(socket);
    client.greeting = await client.read();
    return client;
  }

  /** AUTH TLS (or another mechanism name), check 234, and upgrade the control connection. */
  async authTls(mechanism = 'TLS'): Promise<FtpReply> {
    const reply = await this.expect(`AUTH ${mechanism}`, 234);
    await this.startTls();
    return reply;
  }

  /** Upgrades the control connection to TLS (after a 234 reply). */
  async startTls(): Promise<TLSSocket> {
    this.detach(this.io);
    const secure = tlsConnect({ socket: this.tcp, rejectUnauthorized: false });
    secure.on('session', (session: Buffer) => (this.session = session));
    this.io = secure;
    this.attach(secure);
    await secureConnected(secure, 'control TLS handshake');
    await this.waitForSession(secure);
    return secure;
  }

  /**
   * TLS 1.3 delivers session tickets after the handshake ('session' events); TLS 1.2
   * has the session at once. Waits (bounded) until one is known.
   */
  private async waitForSession(secure: TLSSocket): Promise<void> {
    if (secure.getProtocol() !== 'TLSv1.3') {
      this.session ??= secure.getSession();
      return;
    }
    await waitFor(() => this.session !== undefined, 3000);
  }

  get tls(): TLSSocket | null {
    return 'encrypted' in this.io ? (this.io as TLSSocket) : null;
  }

  private attach(io: Socket): void {
    io.on('data', this.onDataBound);
    io.on('error', this.onErrorBound);
    io.on('close', this.onCloseBound);
  }

  private detach(io: Socket): void {
    io.off('data', this.onDataBound);
    io.off('error', this.onErrorBound);
    io.off('close', this.onCloseBound);
  }

  private onData(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      this.pending.push(line);
      const first = this.pending[0]!;
      const code = first.slice(0, 3);
      const multi = first[3] === '-';
      if (!multi || (line.startsWith(code + ' ') && this.pending.length > 1)) {
        const last = this.pending[this.pending.length - 1]!;
        const reply = { code: Number(code), text: last.slice(4), lines: this.pending };
        this.pending = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  private fail(error: Error): void {
    this.ended ??= error;
    for (const waiter of this.waiters.splice(0)) waiter(error);
  }

  /** The next reply from the server. */
  read(timeoutMs = REPLY_TIMEOUT_MS): Promise<FtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(handler);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(new Error('timed out waiting for a reply'));
      }, timeoutMs);
      const handler = (reply: FtpReply | Error) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      };
      this.waiters.push(handler);
    });
  }

  /** True when the server closed the control connection (within `timeoutMs`). */
  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    if (this.ended || this.io.destroyed) return true;
    return waitFor(() => this.ended !== null || this.io.destroyed, timeoutMs);
  }

  writeRaw(data: string | Buffer): void {
    this.io.write(data);
  }

  async send(line: string): Promise<FtpReply> {
    this.io.write(line + '\r\n');
    return this.read();
  }

  /** Sends a command and throws unless the reply has the expected code. */
  async expect(line: string, code: number): Promise<FtpReply> {
    const reply = await this.send(line);
    if (reply.code !== code) throw new Error(`${line.startsWith('PASS') ? 'PASS ****' : line}: expected ${code}, got ${reply.lines.join(' | ')}`);
    return reply;
  }

  async login(user = USER, password = PASSWORD): Promise<void> {
    await this.expect(`USER ${user}`, 331);
    await this.expect(`PASS ${password}`, 230);
  }

  /** PBSZ 0 and PROT P (or C). */
  async protect(level: 'P' | 'C' = 'P'): Promise<void> {
    await this.expect('PBSZ 0', 200);
    await this.expect(`PROT ${level}`, 200);
  }

  /**
   * Prepares a data connection in the given mode. Returns a function that yields the
   * connected TCP socket once the transfer command has been sent.
   */
  async prepareData(mode: DataMode): Promise<() => Promise<Socket>> {
    const host = this.tcp.remoteAddress!;
    if (mode === 'PASV' || mode === 'EPSV') {
      const reply = await this.expect(mode, mode === 'PASV' ? 227 : 229);
      const target = mode === 'PASV' ? parsePasvReply(reply.text) : { host, port: parseEpsvReply(reply.text) };
      if (!target || !target.port) throw new Error(`bad ${mode} reply: ${reply.text}`);
      const socket = netConnect({ host: target.host, port: target.port });
      socket.on('error', () => undefined);
      await withTimeout(once(socket, 'connect'), SOCKET_TIMEOUT_MS, `${mode} data connect`);
      return async () => socket;
    }
    const listener: Server = createServer();
    const localHost = this.tcp.localAddress!.replace(/^::ffff:/, '');
    listener.listen(0, localHost);
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    const accepted = withTimeout(
      once(listener, 'connection').then(([socket]) => {
        (socket as Socket).on('error', () => undefined);
        return socket as Socket;
      }),
      SOCKET_TIMEOUT_MS,
      `${mode}: the server did not connect`,
    ).finally(() => listener.close());
    accepted.catch(() => undefined);
    const argument = mode === 'PORT' ? encodeHostPort(localHost, port) : encodeEprt(localHost, port);
    const reply = await this.send(`${mode} ${argument}`);
    if (reply.code !== 200) {
      listener.close();
      throw new Error(`${mode} refused: ${reply.lines.join(' | ')}`);
    }
    return () => accepted;
  }

  /** The client side of a data connection: TLS (resuming or not) or clear. */
  async secureData(raw: Socket, how: DataTls): Promise<Socket> {
    if (how === 'clear') return raw;
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false, session: how === 'resume' ? this.session : undefined });
    return secureConnected(secure, 'data TLS handshake');
  }

  /** Runs a download-type command (RETR, LIST, NLST, MLSD) and returns the bytes and replies. */
  async download(command: string, mode: DataMode = 'EPSV', how: DataTls = 'resume'): Promise<DownloadResult> {
    const dataSocket = await this.prepareData(mode);
    const preliminary = await this.send(command);
    if (preliminary.code !== 150 && preliminary.code !== 125) {
      throw new Error(`${command}: expected 150, got ${preliminary.lines.join(' | ')}`);
    }
    const raw = await dataSocket();
    const chunks: Buffer[] = [];
    let dataError: Error | undefined;
    let reused: boolean | undefined;
    try {
      const socket = await this.secureData(raw, how);
      if (how !== 'clear') reused = (socket as TLSSocket).isSessionReused();
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: Error) => (dataError ??= error));
      if (!socket.destroyed) await withTimeout(once(socket, 'close'), SOCKET_TIMEOUT_MS, `${command}: data connection close`);
    } catch (error) {
      dataError = error as Error;
      raw.destroy();
    }
    const final = await this.read();
    return { data: Buffer.concat(chunks), preliminary, final, dataError, reused };
  }

  /** Runs an upload-type command (STOR, APPE, STOU) sending `data`. */
  async upload(command: string, data: Buffer, mode: DataMode = 'EPSV', how: DataTls = 'resume'): Promise<UploadResult> {
    const dataSocket = await this.prepareData(mode);
    const preliminary = await this.send(command);
    if (preliminary.code !== 150 && preliminary.code !== 125) {
      throw new Error(`${command}: expected 150, got ${preliminary.lines.join(' | ')}`);
    }
    const raw = await dataSocket();
    let dataError: Error | undefined;
    let reused: boolean | undefined;
    try {
      const socket = await this.secureData(raw, how);
      if (how !== 'clear') reused = (socket as TLSSocket).isSessionReused();
      socket.on('error', (error: Error) => (dataError ??= error));
      socket.on('data', () => undefined);
      socket.end(data);
      if (!socket.destroyed) await withTimeout(once(socket, 'close'), SOCKET_TIMEOUT_MS, `${command}: data connection close`);
    } catch (error) {
      dataError = error as Error;
      raw.destroy();
    }
    const final = await this.read();
    return { preliminary, final, dataError, reused };
  }

  async quit(): Promise<void> {
    if (!this.ended) {
      this.io.write('QUIT\r\n');
      await this.closedByServer();
    }
    this.close();
  }

  close(): void {
    this.io.destroy();
    this.tcp.destroy();
  }
}

/** Connect, AUTH TLS, PBSZ 0, PROT P, log in: the usual FTPS session start. */
export async function secureSession(server: { host: string; port: number }, user = USER, password = PASSWORD): Promise<FtpsClient> {
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    await client.authTls();
    await client.protect('P');
    await client.login(user, password);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Real clients
// ---------------------------------------------------------------------------------------

/** Upper bound for any one client run; a hung client fails its test instead of CI. */
export const CLIENT_TIMEOUT_MS = 40_000;

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

export interface ClientResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: string;
}

/** Runs a client with an argument vector (no shell), stdin closed, and a hard timeout. */
export function runClient(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ClientResult> {
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

export function describeRun(what: string, result: ClientResult): string {
  const status = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  const stderr = result.stderr.length > 6000 ? '...' + result.stderr.slice(-6000) : result.stderr;
  const stdout = result.stdout.length > 2000 ? '' : result.stdout.toString('utf8');
  return `${what}: ${status}\n--- stderr ---\n${stderr}${stdout ? `\n--- stdout ---\n${stdout}` : ''}`;
}

export function assertExitOk(what: string, result: ClientResult): void {
  if (result.code !== 0) throw new Error(describeRun(what, result));
}

/**
 * Environment for client processes: HOME points at a scratch folder (no ~/.curlrc,
 * ~/.netrc, ~/.lftprc), proxies and SSL overrides are removed, UTF-8 locale.
 */
export function clientEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/proxy$/i.test(key) || /^(LC_|LANG|LANGUAGE$|CURL_|PYTHON|XDG_|LFTP|SSL_|SSLKEYLOGFILE)/.test(key) || key === 'HOME') continue;
    env[key] = value;
  }
  return { ...env, HOME: home, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8' };
}

// ---------------------------------------------------------------------------------------
// Recording proxy
// ---------------------------------------------------------------------------------------

export interface RecordingProxy {
  port: number;
  /** Every byte clients sent through the proxy. */
  fromClient(): Buffer;
  /** Every byte the server sent back through the proxy. */
  fromServer(): Buffer;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 to `target`: only the control connection goes through it
 * (passive data connections go straight to the server's advertised port), so the
 * capture is exactly what an eavesdropper on the control connection sees.
 */
export async function startRecordingProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => {
      up.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      down.push(chunk);
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    fromClient: () => Buffer.concat(up),
    fromServer: () => Buffer.concat(down),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------
// curl and lftp runners
// ---------------------------------------------------------------------------------------

export interface DialogueRun extends ClientResult {
  /** Command lines the client sent (passwords as the client logged them). */
  sent: string[];
  /** Reply lines the client received. */
  received: string[];
}

export const CURL = findBinary('curl');
export const LFTP = findBinary('lftp');
export const PYTHON = findBinary('python3');

/**
 * curl with --verbose (its stderr carries the dialogue: "> CMD", "< NNN text"), no
 * config files, no proxies, certificate checks off (-k: the test certificate is
 * self-signed), and bounded times. `user` null means no --user.
 */
export async function runCurl(
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; user?: string | null },
): Promise<DialogueRun> {
  const user = options.user === undefined ? `${USER}:${PASSWORD}` : options.user;
  const result = await runClient(
    CURL!,
    [
      '-q', // ignore any .curlrc (must come first)
      '--silent',
      '--show-error',
      '--verbose',
      '--globoff',
      '--noproxy',
      '*',
      '--insecure',
      '--connect-timeout',
      '10',
      '--max-time',
      '30',
      ...(user === null ? [] : ['--user', user]),
      ...args,
    ],
    { cwd: options.cwd, env: options.env },
  );
  const sent: string[] = [];
  const received: string[] = [];
  for (const line of result.stderr.split(/\r?\n/)) {
    if (line.startsWith('> ')) sent.push(line.slice(2));
    else if (/^< \d{3}[ -]/.test(line)) received.push(line.slice(2));
  }
  return { ...result, sent, received };
}

/** An lftp word: double-quoted, with backslash escapes for quotes and backslashes. */
export function lftpQuote(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * FTPS settings for lftp: certificate checks off (self-signed test certificate), TLS
 * forced on the control and data connections, one retry, short timeouts.
 */
export const LFTP_FTPS_SETTINGS: readonly string[] = [
  'set cmd:fail-exit yes',
  'set net:max-retries 1',
  'set net:timeout 10',
  'set net:reconnect-interval-base 1',
  'set xfer:clobber on',
  'set ssl:verify-certificate no',
  'set ftp:ssl-force yes',
  'set ftp:ssl-protect-data yes',
  'set ftp:ssl-protect-list yes',
];

/**
 * Runs lftp -d with `commands` after the settings and an `open` of `url`. Its stderr
 * carries the dialogue ("---> CMD", "<--- NNN text"); `cmd:fail-exit` makes any failing
 * command end the run non-zero.
 */
export async function runLftp(
  url: string,
  commands: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; settings?: readonly string[]; user?: string },
): Promise<DialogueRun> {
  const script = [
    ...LFTP_FTPS_SETTINGS,
    ...(options.settings ?? []),
    `open -u ${lftpQuote(`${options.user ?? USER},${PASSWORD}`)} ${lftpQuote(url)}`,
    ...commands,
  ].join('; ');
  const result = await runClient(LFTP!, ['--norc', '-d', '-c', script], { cwd: options.cwd, env: options.env });
  const sent: string[] = [];
  const received: string[] = [];
  for (const line of result.stderr.split(/\r?\n/)) {
    if (line.startsWith('---> ')) sent.push(line.slice(5));
    else if (/^<--- \d{3}[ -]/.test(line)) received.push(line.slice(5));
  }
  return { ...result, sent, received };
}
