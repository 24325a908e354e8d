/**
 * The soak's raw FTP session: exact commands and replies (read by the fuzzer's framing-
 * checking ReplyStream), data connections in PASV, EPSV or PORT mode, and the abrupt
 * ends the soak injects. Every wait is bounded; a missing reply is an error.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { encodeHostPort, parseEpsvReply, parsePasvReply } from '../src/protocol/address.js';
import { ReplyStream, type Reply } from '../test/fuzz/reply-stream.js';

export const HOST = '127.0.0.1';
const REPLY_MS = 30_000;
const CONNECT_MS = 10_000;

export type DataMode = 'PASV' | 'EPSV' | 'PORT';

export class SoakError extends Error {}

export interface PreparedData {
  socket(): Promise<Socket>;
  cancel(): void;
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SoakError(`timed out: ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class SoakSession {
  readonly stream: ReplyStream;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.stream = new ReplyStream(socket);
  }

  static async open(port: number, user: string, password: string): Promise<SoakSession> {
    const socket = connect({ host: HOST, port });
    socket.on('error', () => undefined);
    await bounded(once(socket, 'connect'), CONNECT_MS, 'control connect');
    const session = new SoakSession(socket);
    await session.expectReply([220], 'greeting');
    await session.command(`USER ${user}`, [331]);
    await session.command(`PASS ${password}`, [230]);
    await session.command('TYPE I', [200]);
    return session;
  }

  /** The next reply; it must have one of `codes` (when given). */
  async expectReply(codes: number[] | null, what: string): Promise<Reply> {
    const reply = await this.stream.next(REPLY_MS);
    if (!reply) throw new SoakError(`${what}: no reply (${this.stream.closed ? 'connection closed' : 'timeout'})`);
    if (codes && !codes.includes(reply.code)) throw new SoakError(`${what}: expected ${codes.join('/')}, got ${reply.lines.join(' | ')}`);
    return reply;
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  command(line: string, codes: number[] | null): Promise<Reply> {
    this.send(line);
    return this.expectReply(codes, line);
  }

  /**
   * Sets up a data connection; `socket()` yields it once the transfer command got its
   * 1xx, `cancel()` drops it when the command was refused.
   */
  async prepareData(mode: DataMode): Promise<PreparedData> {
    if (mode !== 'PORT') {
      const reply = await this.command(mode, [mode === 'PASV' ? 227 : 229]);
      const port = mode === 'PASV' ? parsePasvReply(reply.text)?.port : parseEpsvReply(reply.text);
      if (!port) throw new SoakError(`bad ${mode} reply: ${reply.text}`);
      const socket = connect({ host: HOST, port });
      socket.on('error', () => undefined);
      await bounded(once(socket, 'connect'), CONNECT_MS, `${mode} data connect`);
      return { socket: async () => socket, cancel: () => socket.destroy() };
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
    return { socket: () => accepted, cancel: () => listener.close() };
  }

  /** Gone without a word: the server must clean up after us. */
  vanish(): void {
    this.stream.abandon();
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

/** Resolves once the socket has received something (or ended), bounded. */
export async function firstBytes(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  await bounded(Promise.race([once(socket, 'data'), once(socket, 'close')]), REPLY_MS, 'first bytes of a download');
}
