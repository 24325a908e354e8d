/**
 * A deliberately raw FTP client for tests: sends exact command lines and returns exact
 * replies, so tests can assert on reply codes and texts; opens data connections in any
 * of the four modes (PASV, EPSV, PORT, EPRT).
 *
 * It also speaks FTPS, for the TLS tests: `startTls()` upgrades the control connection
 * after a 234 (and `authTls()` sends the AUTH first), `connectImplicit()` starts with
 * TLS, and each transfer can secure its data connection by resuming the control
 * connection's TLS session, with a fresh handshake, or not at all (see `DataTls`).
 *
 * Commands may be Buffers and replies keep their bytes (`raw`), for the charset tests
 * (a GBK client sends and reads names that are not UTF-8).
 */
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { parseEpsvReply, parsePasvReply, encodeHostPort, encodeEprt } from '../../src/protocol/address.js';
import { redactCommand } from '../../src/protocol/commands.js';
import { waitFor, withTimeout } from './timing.js';

export interface FtpReply {
  code: number;
  /** Text of the last line (after "NNN "). */
  text: string;
  /** Every line, without CRLF, read as UTF-8. */
  lines: string[];
  /** Every line's bytes, without CRLF. */
  raw: Buffer[];
}

export type DataMode = 'PASV' | 'EPSV' | 'PORT' | 'EPRT';
export const DATA_MODES: readonly DataMode[] = ['PASV', 'EPSV', 'PORT', 'EPRT'];

/**
 * How the client treats a data connection: "resume" does TLS resuming the control
 * connection's session (what the server demands by default), "fresh" does a full TLS
 * handshake without a session, "clear" does no TLS (plain FTP, or PROT C).
 */
export type DataTls = 'resume' | 'fresh' | 'clear';

export interface DownloadResult {
  data: Buffer;
  preliminary: FtpReply;
  final: FtpReply;
  /** Set when the data connection's TLS handshake failed or the connection broke. */
  dataError?: Error;
  /** Whether the client's data TLS session was a resumed one (TLS transfers only). */
  reused?: boolean;
}

export interface UploadResult {
  preliminary: FtpReply;
  final: FtpReply;
  dataError?: Error;
  reused?: boolean;
}

const REPLY_TIMEOUT_MS = 10_000;
const CRLF = Buffer.from('\r\n');
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

export class FtpConnection {
  private buffer = Buffer.alloc(0);
  private readonly replies: FtpReply[] = [];
  private readonly waiters: Array<(reply: FtpReply | Error) => void> = [];
  private pending: Buffer[] = [];
  private ended: Error | null = null;
  /** Told when the control connection ends (closed or broken). */
  private readonly endWatchers = new Set<() => void>();
  greeting!: FtpReply;
  /** The stream commands and replies travel on: the TCP socket, or TLS over it. */
  io: Socket;
  /** The latest TLS session the server issued on the control connection. */
  session: Buffer | undefined;
  /** The latest TLS session (ticket) the server issued on a data connection. */
  dataSession: Buffer | undefined;
  /** Extra client TLS options for the control and data connections (e.g. maxVersion). */
  tlsOptions: ConnectionOptions = {};

  /** How transfers treat their data connections unless told otherwise. */
  protected defaultDataTls: DataTls = 'clear';
  /**
   * False: a broken data connection makes the transfer throw. True: the transfer reports
   * it as `dataError` (after reading the final reply) and bounds its wait for the close.
   */
  protected keepDataErrors = false;

  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  private readonly onErrorBound = (error: Error) => this.fail(error);
  private readonly onCloseBound = () => this.fail(new Error('control connection closed'));

  /** `socket` is the control connection's TCP socket (under TLS, when there is TLS). */
  constructor(readonly socket: Socket) {
    this.io = socket;
    socket.on('error', () => undefined);
    this.attach(socket);
  }

  /** Plain TCP connection (optionally from a given local address); reads the greeting. */
  static async connect<T extends FtpConnection>(
    this: new (socket: Socket) => T,
    host: string,
    port: number,
    options: { localAddress?: string } = {},
  ): Promise<T> {
    const socket = netConnect({ host, port, localAddress: options.localAddress });
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
    const connection = new this(socket);
    connection.greeting = await connection.read();
    return connection;
  }

  /** Implicit FTPS: TLS straight away, then the greeting arrives over TLS. */
  static async connectImplicit<T extends FtpConnection>(this: new (socket: Socket) => T, host: string, port: number, tlsOptions: ConnectionOptions = {}): Promise<T> {
    const socket = tlsConnect({ ...tlsOptions, host, port, rejectUnauthorized: false });
    const connection = new this(socket);
    connection.tlsOptions = tlsOptions;
    socket.on('session', (session: Buffer) => (connection.session = session));
    await secureConnected(socket, 'implicit TLS handshake');
    await connection.waitForSession(socket);
    connection.greeting = await connection.read();
    return connection;
  }

  /** Connects (optionally from a given local address) and logs in; throws (and closes) unless the login gets 230. */
  static async login<T extends FtpConnection>(
    this: new (socket: Socket) => T,
    host: string,
    port: number,
    user: string,
    password: string,
    options: { localAddress?: string } = {},
  ): Promise<T> {
    const connection = (await FtpConnection.connect.call(this, host, port, options)) as T;
    try {
      await connection.expect(`USER ${user}`, 331);
      await connection.expect(`PASS ${password}`, 230);
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  get host(): string {
    return this.socket.remoteAddress!;
  }

  /** The TLS layer of the control connection, or null while it is plain TCP. */
  get tls(): TLSSocket | null {
    return 'encrypted' in this.io ? (this.io as TLSSocket) : null;
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
    const secure = tlsConnect({ ...this.tlsOptions, socket: this.socket, rejectUnauthorized: false });
    secure.on('session', (session: Buffer) => (this.session = session));
    this.io = secure;
    this.attach(secure);
    await secureConnected(secure, 'control TLS handshake');
    await this.waitForSession(secure);
    return secure;
  }

  /** PBSZ 0 and PROT P (or C). */
  async protect(level: 'P' | 'C' = 'P'): Promise<void> {
    await this.expect('PBSZ 0', 200);
    await this.expect(`PROT ${level}`, 200);
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
    // Split on bytes: LF is never inside a character of UTF-8 or of the legacy charsets.
    this.buffer = Buffer.concat([this.buffer, chunk]);
    let newline: number;
    while ((newline = this.buffer.indexOf(0x0a)) !== -1) {
      const end = newline > 0 && this.buffer[newline - 1] === 0x0d ? newline - 1 : newline;
      const raw = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(newline + 1);
      this.pending.push(raw);
      const line = raw.toString('utf8');
      const first = this.pending[0]!.toString('utf8');
      const code = first.slice(0, 3);
      const multi = first[3] === '-';
      if (!multi || (line.startsWith(code + ' ') && this.pending.length > 1)) {
        const lines = this.pending.map((bytes) => bytes.toString('utf8'));
        this.deliver({ code: Number(code), text: lines[lines.length - 1]!.slice(4), lines, raw: this.pending });
        this.pending = [];
      }
    }
  }

  private deliver(reply: FtpReply): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(reply);
    else this.replies.push(reply);
  }

  private fail(error: Error): void {
    this.ended ??= error;
    for (const waiter of this.waiters.splice(0)) waiter(error);
    for (const watcher of [...this.endWatchers]) watcher();
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

  /** True when the server has closed the control connection (within `timeoutMs`). */
  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    if (this.ended || this.io.destroyed || this.io.readableEnded) return true;
    return new Promise<boolean>((resolve) => {
      const finish = (closed: boolean) => {
        clearTimeout(timer);
        this.endWatchers.delete(onEnd);
        resolve(closed);
      };
      const onEnd = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.endWatchers.add(onEnd);
    });
  }

  writeRaw(data: string | Buffer): void {
    this.io.write(data);
  }

  /** Sends one command line (text goes as UTF-8, a Buffer as it is) and returns its reply. */
  async send(line: string | Buffer): Promise<FtpReply> {
    this.io.write(Buffer.concat([Buffer.from(line), CRLF]));
    return this.read();
  }

  /** Sends a command and throws unless the reply has the expected code. */
  async expect(line: string | Buffer, code: number): Promise<FtpReply> {
    const reply = await this.send(line);
    if (reply.code !== code) throw new Error(`${redactCommand(String(line))}: expected ${code}, got ${reply.lines.join(' | ')}`);
    return reply;
  }

  /**
   * Prepares a data connection in the given mode. Returns a function that yields the
   * connected TCP socket once the transfer command has been sent.
   */
  async prepareData(mode: DataMode): Promise<() => Promise<Socket>> {
    if (mode === 'PASV' || mode === 'EPSV') {
      const reply = await this.expect(mode, mode === 'PASV' ? 227 : 229);
      const target = mode === 'PASV' ? parsePasvReply(reply.text) : { host: this.host, port: parseEpsvReply(reply.text) };
      if (!target || !target.port) throw new Error(`bad ${mode} reply: ${reply.text}`);
      const socket = netConnect({ host: target.host, port: target.port });
      socket.on('error', () => undefined);
      await withTimeout(once(socket, 'connect'), SOCKET_TIMEOUT_MS, `${mode} data connect`);
      return async () => socket;
    }
    const listener: Server = createServer();
    const localHost = this.socket.localAddress!.replace(/^::ffff:/, '');
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
    const secure = tlsConnect({ ...this.tlsOptions, socket: raw, rejectUnauthorized: false, session: how === 'resume' ? this.session : undefined });
    secure.on('session', (session: Buffer) => (this.dataSession = session));
    return secureConnected(secure, 'data TLS handshake');
  }

  /** Runs a download-type command (RETR, LIST, NLST, MLSD) and returns the bytes and replies. */
  async download(command: string | Buffer, mode: DataMode = 'EPSV', how: DataTls = this.defaultDataTls): Promise<DownloadResult> {
    const chunks: Buffer[] = [];
    const result = await this.transfer(command, mode, how, (socket) => socket.on('data', (chunk: Buffer) => chunks.push(chunk)));
    return { data: Buffer.concat(chunks), ...result };
  }

  /** Runs an upload-type command (STOR, APPE, STOU) sending `data`. */
  async upload(command: string | Buffer, data: Buffer, mode: DataMode = 'EPSV', how: DataTls = this.defaultDataTls): Promise<UploadResult> {
    return this.transfer(command, mode, how, (socket) => {
      socket.on('data', () => undefined);
      socket.end(data);
    });
  }

  /**
   * Prepares a data connection, sends `command` (which must get 150 or 125), secures the
   * data connection as `how` says, hands it to `use`, waits for it to close, and reads
   * the final reply.
   */
  private async transfer(command: string | Buffer, mode: DataMode, how: DataTls, use: (socket: Socket) => void): Promise<UploadResult> {
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
      use(socket);
      if (!socket.destroyed) await this.dataClosed(socket, command);
    } catch (error) {
      if (!this.keepDataErrors) throw error;
      dataError = error as Error;
      raw.destroy();
    }
    const final = await this.read();
    return { preliminary, final, dataError, reused };
  }

  /** Waits for a data connection to close (bounded when data errors are kept). */
  private async dataClosed(socket: Socket, command: string | Buffer): Promise<void> {
    const closed = once(socket, 'close');
    if (this.keepDataErrors) await withTimeout(closed, SOCKET_TIMEOUT_MS, `${command}: data connection close`);
    else await closed;
  }

  async quit(): Promise<void> {
    if (!this.ended) {
      this.io.write('QUIT\r\n');
      await this.closedByServer();
    }
    this.close();
  }

  /** Drops the connection without a QUIT. */
  close(): void {
    this.io.destroy();
    this.socket.destroy();
  }
}
