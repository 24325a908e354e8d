/**
 * FtpClient: the library face of Ferry's client. One command at a time on the control
 * connection (calls queue), transfers that finish only when both the data stream has
 * ended and the server's final reply has arrived, cancellation with ABOR that leaves
 * the connection usable, and typed errors carrying the FTP reply code.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ControlConnection, type TlsClientOptions, type Trace } from './control.js';
import { prepareData, type DataCommand, type DataMode, type PendingData } from './data-connection.js';
import { FtpClientError, replyError } from './errors.js';
import { parseList, parseMlsd, type RemoteFile } from './list-parser.js';
import type { FtpResponse } from './reply-parser.js';
import { createThrottle } from './throttle.js';

export interface FtpClientOptions {
  host: string;
  port?: number;
  /** Default "anonymous" (with password "anonymous@"). */
  user?: string;
  password?: string;
  /** false: plain FTP; 'explicit': AUTH TLS on the normal port; 'implicit': TLS from the first byte. */
  secure?: false | 'explicit' | 'implicit';
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  ca?: TlsClientOptions['ca'];
  /** 'passive' (default: EPSV, then PASV) or 'active' (EPRT, then PORT). */
  dataMode?: DataMode;
  /**
   * Exactly this data command, with no fallback: 'EPSV', 'PASV', 'EPRT' or 'PORT'
   * (the mode follows from it). Overrides `dataMode`.
   */
  dataCommand?: DataCommand;
  /** Same as `dataCommand: 'PASV'` (kept for existing callers). */
  forcePasv?: boolean;
  /**
   * Passive only: connect to the address in a 227 reply even when it is not the server's
   * (control connection) address. Off by default, as in curl and basic-ftp.
   */
  trustPasvAddress?: boolean;
  /** Active only: the local address to listen on. */
  activeHost?: string;
  /** Per reply / connection attempt, in ms (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives the dialogue: "---> CMD", server replies, data connection notes. */
  trace?: Trace;
}

export interface Progress {
  bytes: number;
  /** Total bytes when known (SIZE before a download, a file's size before an upload). */
  total?: number;
}

export interface TransferOptions {
  /** Resume at this byte offset (REST). */
  startAt?: number;
  /** Size of the whole file, for progress; a download asks the server (SIZE) when not given. */
  total?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** At most this many bytes per second (a token bucket; bursts of at most 1/8 s of it). */
  rateLimit?: number;
}

/** Listings larger than this are refused rather than buffered without bound. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

function parseQuotedPath(message: string): string {
  const match = /"((?:[^"]|"")*)"/.exec(message);
  return match ? match[1]!.replace(/""/g, '"') : message.trim();
}

export class FtpClient {
  /** FEAT lines, upper-cased keyword -> rest ("MLST" -> "type*;size*;..."). */
  readonly features = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private protectData = false;

  private constructor(
    private readonly control: ControlConnection,
    private readonly options: FtpClientOptions,
  ) {}

  static async connect(options: FtpClientOptions): Promise<FtpClient> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const tlsOptions: TlsClientOptions = { servername: options.host, rejectUnauthorized: options.rejectUnauthorized, ca: options.ca };
    const control = await ControlConnection.open({
      host: options.host,
      port: options.port ?? (options.secure === 'implicit' ? 990 : 21),
      timeoutMs,
      trace: options.trace,
      implicitTls: options.secure === 'implicit' ? tlsOptions : undefined,
      signal: options.signal,
    });
    const client = new FtpClient(control, options);
    // Aborting during the greeting or login closes the connection, which ends the wait.
    const onAbort = () => control.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await client.handshake(tlsOptions);
    } catch (error) {
      control.close();
      if (options.signal?.aborted) throw new FtpClientError('aborted', 'connect aborted', undefined, { cause: error });
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return client;
  }

  private async handshake(tlsOptions: TlsClientOptions): Promise<void> {
    const { control, options } = this;
    let greeting = await control.read();
    while (greeting.code === 120) greeting = await control.read();
    if (greeting.code !== 220) throw replyError('(greeting)', greeting.code, greeting.message);
    if (options.secure === 'explicit') {
      const auth = await control.send('AUTH TLS');
      if (auth.code !== 234) throw new FtpClientError('tls', `the server refused AUTH TLS: ${auth.code} ${auth.message}`, auth.code);
      await control.upgrade(tlsOptions);
    }
    const user = options.user ?? 'anonymous';
    const userReply = await control.send(`USER ${user}`);
    if (userReply.code === 331 || userReply.code === 332) {
      const passReply = await control.send(`PASS ${options.password ?? (user === 'anonymous' ? 'anonymous@' : '')}`);
      if (passReply.code !== 230 && passReply.code !== 202) throw replyError('PASS', passReply.code, passReply.message);
    } else if (userReply.code !== 230) {
      throw replyError(`USER ${user}`, userReply.code, userReply.message);
    }
    const feat = await control.send('FEAT');
    if (feat.code === 211) {
      for (const line of feat.lines.slice(1, -1)) {
        const [keyword = '', ...rest] = line.trim().split(' ');
        if (keyword) this.features.set(keyword.toUpperCase(), rest.join(' '));
      }
    }
    if (options.secure) {
      await control.expect('PBSZ 0');
      await control.expect('PROT P');
      this.protectData = true;
    }
    if (this.features.has('UTF8')) await control.send('OPTS UTF8 ON');
    await control.expect('TYPE I');
  }

  /** Runs one operation at a time, in call order. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends any command; returns the reply whatever its code. */
  send(command: string): Promise<FtpResponse> {
    return this.exclusive(() => this.control.send(command));
  }

  pwd(): Promise<string> {
    return this.exclusive(async () => parseQuotedPath((await this.control.expect('PWD', (c) => c === 257)).message));
  }

  cd(path: string): Promise<void> {
    return this.exclusive(async () => void (await this.control.expect(`CWD ${path}`, (c) => c === 250)));
  }

  size(path: string): Promise<number> {
    return this.exclusive(async () => {
      const reply = await this.control.expect(`SIZE ${path}`, (c) => c === 213);
      const size = Number(reply.message.trim());
      if (!Number.isSafeInteger(size)) throw new FtpClientError('protocol', `bad SIZE reply: ${reply.message}`);
      return size;
    });
  }

  lastModified(path: string): Promise<Date> {
    return this.exclusive(async () => {
      const reply = await this.control.expect(`MDTM ${path}`, (c) => c === 213);
      const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(reply.message.trim());
      if (!m) throw new FtpClientError('protocol', `bad MDTM reply: ${reply.message}`);
      return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.exclusive(async () => {
      await this.control.expect(`RNFR ${from}`, (c) => c === 350);
      await this.control.expect(`RNTO ${to}`, (c) => c === 250);
    });
  }

  remove(path: string): Promise<void> {
    return this.exclusive(async () => void (await this.control.expect(`DELE ${path}`, (c) => c === 250)));
  }

  /** MKD; with `recursive`, creates missing parents and accepts an existing directory. */
  mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.exclusive(async () => {
      if (!options.recursive) {
        await this.control.expect(`MKD ${path}`, (c) => c === 257);
        return;
      }
      const absolute = path.startsWith('/');
      const parts = path.split('/').filter((p) => p !== '' && p !== '.');
      for (let i = 1; i <= parts.length; i++) {
        const prefix = (absolute ? '/' : '') + parts.slice(0, i).join('/');
        const reply = await this.control.send(`MKD ${prefix}`);
        if (reply.code === 257) continue;
        if (!(await this.isDirectoryUnlocked(prefix))) throw replyError(`MKD ${prefix}`, reply.code, reply.message);
      }
    });
  }

  /** True when CWD into `path` works (then returns to where we were). */
  private async isDirectoryUnlocked(path: string): Promise<boolean> {
    const here = parseQuotedPath((await this.control.expect('PWD', (c) => c === 257)).message);
    const reply = await this.control.send(`CWD ${path}`);
    if (reply.code !== 250) return false;
    await this.control.expect(`CWD ${here}`, (c) => c === 250);
    return true;
  }

  /** RMD; with `recursive`, empties the directory first. */
  removeDir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.exclusive(() => this.removeDirUnlocked(path, options.recursive ?? false));
  }

  private async removeDirUnlocked(path: string, recursive: boolean): Promise<void> {
    if (recursive) {
      for (const entry of await this.listUnlocked(path)) {
        if (!isSafeName(entry.name)) continue;
        const child = `${path.replace(/\/+$/, '')}/${entry.name}`;
        if (entry.type === 'directory') await this.removeDirUnlocked(child, true);
        else await this.control.expect(`DELE ${child}`, (c) => c === 250);
      }
    }
    await this.control.expect(`RMD ${path}`, (c) => c === 250);
  }

  /** Directory entries: MLSD when the server has it, else LIST parsed (Unix and DOS forms). */
  list(path = ''): Promise<RemoteFile[]> {
    return this.exclusive(() => this.listUnlocked(path));
  }

  private async listUnlocked(path: string): Promise<RemoteFile[]> {
    assertCommandSafe(path);
    const useMlsd = this.features.has('MLST');
    const command = `${useMlsd ? 'MLSD' : 'LIST'}${path ? ` ${path}` : ''}`;
    const chunks: Buffer[] = [];
    let size = 0;
    const collector: Writable = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > MAX_LISTING_BYTES) return callback(new FtpClientError('protocol', 'directory listing too large'));
        chunks.push(chunk);
        callback();
      },
    });
    await this.transferUnlocked(command, 'download', async () => collector, {});
    const text = Buffer.concat(chunks).toString('utf8');
    return useMlsd ? parseMlsd(text) : parseList(text);
  }

  /**
   * Downloads to a local path or a writable stream. A local file is opened only once the
   * server has accepted the RETR, so a refused download leaves an existing file alone.
   */
  download(remotePath: string, destination: string | Writable, options: TransferOptions = {}): Promise<void> {
    return this.exclusive(async () => {
      assertCommandSafe(remotePath);
      const total = options.total ?? (await this.control.send(`SIZE ${remotePath}`).then((r) => (r.code === 213 ? parseSize(r.message) : undefined)));
      const sink: StreamSource<Writable> =
        typeof destination === 'string'
          ? async () => createWriteStream('', { fd: await fs.open(destination, options.startAt ? 'r+' : 'w'), start: options.startAt })
          : async () => destination;
      await this.transferUnlocked(`RETR ${remotePath}`, 'download', sink, options, total);
    });
  }

  /** Uploads from a local path or a readable stream (STOR, or APPE with `append`). */
  upload(source: string | Readable, remotePath: string, options: TransferOptions & { append?: boolean } = {}): Promise<void> {
    return this.exclusive(async () => {
      assertCommandSafe(remotePath);
      // A local file is opened before anything is sent: a missing file fails here, cleanly.
      const handle = typeof source === 'string' ? await fs.open(source, 'r') : null;
      try {
        const total = options.total ?? (handle ? (await handle.stat()).size : undefined);
        const stream: StreamSource<Readable> = handle ? async () => createReadStream('', { fd: handle, start: options.startAt }) : async () => source as Readable;
        await this.transferUnlocked(`${options.append ? 'APPE' : 'STOR'} ${remotePath}`, 'upload', stream, options, total);
      } finally {
        await handle?.close().catch(() => undefined);
      }
    });
  }

  /** APPE: adds to the end of a remote file. */
  append(source: string | Readable, remotePath: string, options: TransferOptions = {}): Promise<void> {
    return this.upload(source, remotePath, { ...options, append: true });
  }

  /**
   * One transfer: data connection, REST, the command, then bytes and the final reply.
   * Resolves only when both the data stream has ended and the final reply is positive.
   */
  private async transferUnlocked(command: string, direction: 'download' | 'upload', openStream: StreamSource<Readable | Writable>, options: TransferOptions, total?: number): Promise<void> {
    const signal = options.signal ?? this.options.signal;
    if (signal?.aborted) throw new FtpClientError('aborted', `${command}: aborted`);
    assertCommandSafe(command);
    let stream: Readable | Writable | undefined;
    const pending: PendingData = await prepareData(this.control, {
      mode: this.options.dataMode ?? 'passive',
      command: this.options.dataCommand ?? (this.options.forcePasv ? 'PASV' : undefined),
      trustPasvAddress: this.options.trustPasvAddress,
      activeHost: this.options.activeHost,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      trace: this.options.trace,
    });
    let dataSocket: Socket | undefined;
    let finalReply: Promise<FtpResponse> | undefined;
    try {
      if (options.startAt) await this.control.expect(`REST ${options.startAt}`, (c) => c === 350);
      const preliminary = await this.control.send(command);
      if (preliminary.code >= 400) throw replyError(command, preliminary.code, preliminary.message);
      // The final reply comes after the data, however long that takes; the reply timeout
      // counts from the end of the data (below), and the data connection has its own.
      finalReply = preliminary.code < 200 ? this.control.read(false) : Promise.resolve(preliminary);
      finalReply.catch(() => undefined);
      const tls = this.protectData ? { servername: this.options.host, rejectUnauthorized: this.options.rejectUnauthorized, ca: this.options.ca, session: this.control.tlsSession } : null;
      // A 425/426 while we wait (the server could not connect back, or gave up on us)
      // ends the wait at once: the connection is never coming.
      const refused = finalReply.then((reply) => {
        if (reply.code >= 400) throw replyError(command, reply.code, reply.message);
        return new Promise<never>(() => undefined);
      });
      refused.catch(() => undefined); // a late failure is reported through `confirmed` below
      dataSocket = await Promise.race([pending.connected(tls), refused]);
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      const socket = dataSocket;
      socket.setTimeout(timeoutMs, () => socket.destroy(new FtpClientError('timeout', `${command}: the data connection stalled (no bytes for ${timeoutMs / 1000} s)`)));
      stream = await openStream();
      const moved = this.moveBytes(socket, direction, stream, options, total, signal);
      const reply = finalReply;
      // A negative final reply while the bytes still move ends the transfer at once.
      const confirmed = reply.then((final) => {
        if (final.code >= 400) throw replyError(command, final.code, final.message);
      });
      const answeredInTime = moved.then(() => this.control.within(reply));
      await Promise.all([moved, confirmed, answeredInTime]);
    } catch (error) {
      pending.close();
      dataSocket?.destroy();
      stream?.destroy();
      if (signal?.aborted) {
        await this.abortUnlocked(finalReply);
        throw new FtpClientError('aborted', `${command}: aborted`, undefined, { cause: error });
      }
      // The final reply is still owed (the server answers a broken data connection with 426):
      // take it before the next command runs, or close the connection when it does not come,
      // so it is never taken for the next command's reply.
      if (finalReply) await this.control.within(finalReply).catch(() => undefined);
      throw error;
    }
  }

  private async moveBytes(socket: Socket, direction: 'download' | 'upload', stream: Readable | Writable, options: TransferOptions, total: number | undefined, signal?: AbortSignal): Promise<void> {
    let bytes = options.startAt ?? 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        options.onProgress?.({ bytes, total });
        callback(null, chunk);
      },
    });
    // The throttle sits before the counter, so progress counts bytes as they are let through.
    const stages = options.rateLimit === undefined ? [counter] : [createThrottle(options.rateLimit), counter];
    if (direction === 'download') await pipeline([socket, ...stages, stream as Writable], { signal });
    else await pipeline([stream as Readable, ...stages, socket], { signal });
  }

  /**
   * After a cancelled transfer: ABOR, then read the transfer's own final reply (426 or
   * 226) and ABOR's reply, so the control connection stays in step for the next command.
   */
  private async abortUnlocked(transferReply: Promise<FtpResponse> | undefined): Promise<void> {
    try {
      this.control.write('ABOR');
      if (transferReply) await transferReply.catch(() => undefined);
      await this.control.read();
    } catch {
      // The connection may be gone; the caller gets the abort error either way.
    }
  }

  /** QUIT and close. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (!this.control.closed) await this.control.send('QUIT').catch(() => undefined);
      this.control.close();
    });
  }
}

/** Opens the local side of a transfer when it is needed (after the server said yes). */
type StreamSource<T> = () => Promise<T>;

/** CR or LF in a path would smuggle a second command: refused before anything is sent. */
function assertCommandSafe(text: string): void {
  if (/[\r\n]/.test(text)) throw new FtpClientError('usage', 'a command or path must not contain CR or LF');
}

function parseSize(message: string): number | undefined {
  const size = Number(message.trim());
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/** A listing entry name that is safe to join to a path ("..", "a/b" and CR/LF are not). */
export function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\r\n\0]/.test(name);
}
