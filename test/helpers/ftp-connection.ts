/**
 * A deliberately raw FTP client for tests: sends exact command lines and returns exact
 * replies, so tests can assert on reply codes and texts; opens data connections in any
 * of the four modes (PASV, EPSV, PORT, EPRT).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseEpsvReply, parsePasvReply, encodeHostPort, encodeEprt } from '../../src/protocol/address.js';

export interface FtpReply {
  code: number;
  /** Text of the last line (after "NNN "). */
  text: string;
  /** Every raw line, without CRLF. */
  lines: string[];
}

export type DataMode = 'PASV' | 'EPSV' | 'PORT' | 'EPRT';
export const DATA_MODES: readonly DataMode[] = ['PASV', 'EPSV', 'PORT', 'EPRT'];

const REPLY_TIMEOUT_MS = 10_000;

export class FtpConnection {
  private buffer = '';
  private readonly replies: FtpReply[] = [];
  private readonly waiters: Array<(reply: FtpReply | Error) => void> = [];
  private pending: string[] = [];
  private ended: Error | null = null;
  greeting!: FtpReply;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.onText(text));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('control connection closed')));
  }

  static async connect(host: string, port: number, options: { localAddress?: string } = {}): Promise<FtpConnection> {
    const socket = connect({ host, port, localAddress: options.localAddress });
    await once(socket, 'connect');
    const connection = new FtpConnection(socket);
    connection.greeting = await connection.read();
    return connection;
  }

  /** Connects and logs in; throws unless the login gets 230. */
  static async login(host: string, port: number, user: string, password: string): Promise<FtpConnection> {
    const connection = await FtpConnection.connect(host, port);
    await connection.expect(`USER ${user}`, 331);
    await connection.expect(`PASS ${password}`, 230);
    return connection;
  }

  get host(): string {
    return this.socket.remoteAddress!;
  }

  private onText(text: string): void {
    this.buffer += text;
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
        this.deliver({ code: Number(code), text: last.slice(4), lines: this.pending });
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

  /** True when the server has closed the control connection. */
  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    if (this.socket.destroyed || this.socket.readableEnded) return true;
    const closed = once(this.socket, 'close').then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs));
    return Promise.race([closed, timeout]);
  }

  writeRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one command line and returns its reply. */
  async send(line: string): Promise<FtpReply> {
    this.socket.write(line + '\r\n');
    return this.read();
  }

  /** Sends a command and throws unless the reply has the expected code. */
  async expect(line: string, code: number): Promise<FtpReply> {
    const reply = await this.send(line);
    if (reply.code !== code) throw new Error(`${line.startsWith('PASS') ? 'PASS ****' : line}: expected ${code}, got ${reply.lines.join(' | ')}`);
    return reply;
  }

  /**
   * Prepares a data connection in the given mode. Returns a function that yields the
   * connected data socket once the transfer command has been sent.
   */
  async prepareData(mode: DataMode): Promise<() => Promise<Socket>> {
    if (mode === 'PASV' || mode === 'EPSV') {
      const reply = await this.expect(mode, mode === 'PASV' ? 227 : 229);
      const target = mode === 'PASV' ? parsePasvReply(reply.text) : { host: this.host, port: parseEpsvReply(reply.text) };
      if (!target || !target.port) throw new Error(`bad ${mode} reply: ${reply.text}`);
      const socket = connect({ host: target.host, port: target.port });
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      return async () => socket;
    }
    const listener: Server = createServer();
    const localHost = this.socket.localAddress!;
    listener.listen(0, localHost);
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    const accepted = once(listener, 'connection').then(([socket]) => {
      listener.close();
      (socket as Socket).on('error', () => undefined);
      return socket as Socket;
    });
    const argument = mode === 'PORT' ? encodeHostPort(localHost.replace(/^::ffff:/, ''), port) : encodeEprt(localHost.replace(/^::ffff:/, ''), port);
    const reply = await this.send(`${mode} ${argument}`);
    if (reply.code !== 200) {
      listener.close();
      throw new Error(`${mode} refused: ${reply.lines.join(' | ')}`);
    }
    return () => accepted;
  }

  /** Runs a download-type command (RETR, LIST, NLST, MLSD) and returns the bytes and replies. */
  async download(command: string, mode: DataMode = 'EPSV'): Promise<{ data: Buffer; preliminary: FtpReply; final: FtpReply }> {
    const dataSocket = await this.prepareData(mode);
    const preliminary = await this.send(command);
    if (preliminary.code !== 150 && preliminary.code !== 125) {
      throw new Error(`${command}: expected 150, got ${preliminary.lines.join(' | ')}`);
    }
    const socket = await dataSocket();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    const final = await this.read();
    return { data: Buffer.concat(chunks), preliminary, final };
  }

  /** Runs an upload-type command (STOR, APPE, STOU) sending `data`. */
  async upload(command: string, data: Buffer, mode: DataMode = 'EPSV'): Promise<{ preliminary: FtpReply; final: FtpReply }> {
    const dataSocket = await this.prepareData(mode);
    const preliminary = await this.send(command);
    if (preliminary.code !== 150 && preliminary.code !== 125) {
      throw new Error(`${command}: expected 150, got ${preliminary.lines.join(' | ')}`);
    }
    const socket = await dataSocket();
    socket.end(data);
    await once(socket, 'close');
    const final = await this.read();
    return { preliminary, final };
  }

  async quit(): Promise<void> {
    if (!this.ended) {
      this.socket.write('QUIT\r\n');
      await this.closedByServer();
    }
    this.socket.destroy();
  }
}
