/**
 * The soak's raw FTP session: exact commands and replies (read by the fuzzer's framing-
 * checking ReplyStream), data connections in PASV, EPSV or PORT mode, and the abrupt
 * ends the soak injects. Every wait is bounded; a missing reply is an error.
 *
 * A session can be explicit FTPS (AUTH TLS, PBSZ 0, PROT P): its data connections then
 * run TLS resuming the control connection's session, as Ferry requires by default
 * (`tls.session_reuse`), and each keeps its TCP socket at hand for the resets and bare
 * FINs injected underneath TLS.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { encodeHostPort, parseEpsvReply, parsePasvReply } from '../src/protocol/address.js';
import { ReplyStream, type Reply } from '../test/fuzz/reply-stream.js';

export const HOST = '127.0.0.1';
const REPLY_MS = 30_000;
const CONNECT_MS = 10_000;

export type DataMode = 'PASV' | 'EPSV' | 'PORT';

export class SoakError extends Error {}

/** A transfer's data connection: `io` carries the file (TLS under PROT P), `tcp` is the connection below. */
export interface DataConnection {
  io: Socket;
  tcp: Socket;
}

export interface PreparedData {
  connection(): Promise<DataConnection>;
  cancel(): void;
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SoakError(`timed out: ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Client TLS over `tcp` (resuming `session` when given), once its handshake is done. */
async function startTls(tcp: Socket, session: Buffer | undefined, what: string): Promise<TLSSocket> {
  const secure = tlsConnect({ socket: tcp, rejectUnauthorized: false, session });
  secure.on('error', () => undefined);
  const closed = once(secure, 'close').then(() => {
    throw new SoakError(`${what}: connection closed during the TLS handshake`);
  });
  closed.catch(() => undefined);
  try {
    await bounded(Promise.race([once(secure, 'secureConnect'), closed]), CONNECT_MS, what);
  } catch (error) {
    secure.destroy();
    tcp.destroy();
    throw error;
  }
  return secure;
}

export class SoakSession {
  private replyStream: ReplyStream;
  /** Commands and replies travel here: the TCP socket, or TLS over it after AUTH TLS. */
  private io: Socket;
  private control: TLSSocket | null = null;
  /** The latest TLS session the server issued on the control connection (TLS 1.3 sends tickets after the handshake). */
  private tlsSession: Buffer | undefined;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.io = socket;
    this.replyStream = new ReplyStream(socket);
  }

  static async open(port: number, user: string, password: string, tls = false): Promise<SoakSession> {
    const socket = connect({ host: HOST, port });
    socket.on('error', () => undefined);
    await bounded(once(socket, 'connect'), CONNECT_MS, 'control connect');
    const session = new SoakSession(socket);
    await session.expectReply([220], 'greeting');
    if (tls) await session.authTls();
    await session.command(`USER ${user}`, [331]);
    await session.command(`PASS ${password}`, [230]);
    if (tls) {
      await session.command('PBSZ 0', [200]);
      await session.command('PROT P', [200]);
    }
    await session.command('TYPE I', [200]);
    return session;
  }

  get stream(): ReplyStream {
    return this.replyStream;
  }

  get secure(): boolean {
    return this.control !== null;
  }

  /** AUTH TLS, then the control connection's handshake; replies are read from TLS from now on. */
  private async authTls(): Promise<void> {
    await this.command('AUTH TLS', [234]);
    const secure = await startTls(this.socket, undefined, 'control TLS handshake');
    secure.on('session', (ticket: Buffer) => (this.tlsSession = ticket));
    this.control = secure;
    this.io = secure;
    this.replyStream = new ReplyStream(secure);
    if (secure.getProtocol() !== 'TLSv1.3') this.tlsSession = secure.getSession();
  }

  /** The session a data connection resumes: waits (bounded) for TLS 1.3's ticket. */
  private async resumable(): Promise<Buffer> {
    const deadline = Date.now() + CONNECT_MS;
    while (!this.tlsSession && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const session = this.tlsSession ?? this.control?.getSession();
    if (!session) throw new SoakError('no TLS session to resume for the data connection');
    return session;
  }

  /** The data connection as the transfer uses it: TLS resuming the control session under PROT P. */
  private async secureData(tcp: Socket): Promise<DataConnection> {
    if (!this.control) return { io: tcp, tcp };
    const io = await startTls(tcp, await this.resumable(), 'data TLS handshake');
    if (!io.isSessionReused()) throw new SoakError('the data connection did not resume the control TLS session');
    return { io, tcp };
  }

  /** The next reply; it must have one of `codes` (when given). */
  async expectReply(codes: number[] | null, what: string): Promise<Reply> {
    const reply = await this.stream.next(REPLY_MS);
    if (!reply) throw new SoakError(`${what}: no reply (${this.stream.closed ? 'connection closed' : 'timeout'})`);
    if (codes && !codes.includes(reply.code)) throw new SoakError(`${what}: expected ${codes.join('/')}, got ${reply.lines.join(' | ')}`);
    return reply;
  }

  send(line: string): void {
    this.io.write(line + '\r\n');
  }

  command(line: string, codes: number[] | null): Promise<Reply> {
    this.send(line);
    return this.expectReply(codes, line);
  }

  /**
   * Sets up a data connection; `connection()` yields it (secured under PROT P) once the
   * transfer command got its 1xx, `cancel()` drops it when the command was refused.
   */
  async prepareData(mode: DataMode): Promise<PreparedData> {
    if (mode !== 'PORT') {
      const reply = await this.command(mode, [mode === 'PASV' ? 227 : 229]);
      const port = mode === 'PASV' ? parsePasvReply(reply.text)?.port : parseEpsvReply(reply.text);
      if (!port) throw new SoakError(`bad ${mode} reply: ${reply.text}`);
      const socket = connect({ host: HOST, port });
      socket.on('error', () => undefined);
      await bounded(once(socket, 'connect'), CONNECT_MS, `${mode} data connect`);
      return { connection: () => this.secureData(socket), cancel: () => socket.destroy() };
    }
    const listener = createServer();
    listener.listen(0, HOST);
    await once(listener, 'listening');
    const accepted = bounded(
      once(listener, 'connection').then(([socket]) => socket as Socket),
      CONNECT_MS,
      'the server connecting back (PORT)',
    ).finally(() => listener.close());
    accepted.catch(() => undefined);
    accepted.then((socket) => socket.on('error', () => undefined)).catch(() => undefined);
    try {
      await this.command(`PORT ${encodeHostPort(HOST, (listener.address() as AddressInfo).port)}`, [200]);
    } catch (error) {
      listener.close();
      throw error;
    }
    return { connection: async () => this.secureData(await accepted), cancel: () => listener.close() };
  }

  /** Gone without a word: the server must clean up after us. */
  vanish(): void {
    this.replyStream.abandon();
    this.io.destroy();
    this.socket.destroy();
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT', [221]);
    } catch {
      // already gone
    }
    this.vanish();
  }
}

/** Reads a data connection to its end (bounded), returning the bytes. */
export async function readAll(socket: Socket, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume(); // a stalled reader paused it
  // An empty download can end (and close) before anyone reads.
  if (socket.destroyed) return Buffer.concat(chunks);
  await bounded(once(socket, 'close'), REPLY_MS, what);
  return Buffer.concat(chunks);
}

/** Waits (bounded) for a data connection to close after our end of it. */
export async function closed(socket: Socket, what: string): Promise<void> {
  socket.resume(); // the close waits for the server's end, which must be read
  if (socket.destroyed) return;
  await bounded(once(socket, 'close'), REPLY_MS, what);
}

/** Writes `bytes` and resolves once they are handed to the kernel. */
export function written(socket: Socket, bytes: Buffer): Promise<void> {
  return bounded(
    new Promise<void>((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve()))),
    REPLY_MS,
    'writing upload bytes',
  );
}

/** Resolves once the socket has received something (or ended), bounded. */
export async function firstBytes(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  await bounded(Promise.race([once(socket, 'data'), once(socket, 'close')]), REPLY_MS, 'first bytes of a download');
}
