/**
 * FtpClient: the library face of Ferry's client. One command at a time on the control
 * connection (calls queue), transfers that finish only when both the data stream has
 * ended and the server's final reply has arrived, cancellation with ABOR that leaves
 * the connection usable, typed errors carrying the FTP reply code, and fallbacks for
 * servers without MLSD, SIZE, MDTM, REST, EPSV or EPRT (decided in capabilities.ts).
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ServerCapabilities, type NeededCommand } from './capabilities.js';
import { ControlConnection, type TlsClientOptions, type Trace } from './control.js';
import { prepareData, type DataCommand, type DataMode, type PendingData } from './data-connection.js';
import { FtpClientError, replyError } from './errors.js';
import { parseList, parseMlsd, parseMlsxLine, type RemoteFile } from './list-parser.js';
import type { FtpResponse } from './reply-parser.js';
import { unsafeNameReason } from './safe-name.js';
import { downloadTree, uploadTree, type TreeTransferOptions, type TreeTransferResult } from './tree-transfer.js';
import { createThrottle } from './throttle.js';
import { withDeadline } from '../util/deadline.js';
import { MAX_DEPTH } from './tree-walk.js';

/** How `FtpClient.connect` reaches and logs in to a server. Only `host` is required. */
export interface FtpClientOptions {
  /**
   * Host name or IP address of the server. A host name is also the TLS server name
   * (SNI) and the name the certificate must carry; an IP address must be in the
   * certificate's IP names.
   */
  host: string;
  /** Control port. Default 21, or 990 with `secure: 'implicit'`. */
  port?: number;
  /** User name. Default "anonymous". */
  user?: string;
  /**
   * Password, sent only when the server asks for one (331/332 to USER). Default
   * "anonymous@" for the user "anonymous", else the empty string.
   */
  password?: string;
  /**
   * Default false (plain FTP: passwords and data travel in clear text). 'explicit': AUTH
   * TLS on the normal port before logging in (RFC 4217); 'implicit': TLS from the first
   * byte (usually port 990). Either way PBSZ 0 and PROT P follow the login, so data
   * connections are TLS too, resuming the control connection's TLS session. A server
   * that refuses AUTH TLS, PBSZ or PROT fails the connect with kind 'tls' and its code.
   */
  secure?: false | 'explicit' | 'implicit';
  /**
   * Verify the server's certificate chain and name (default true). false accepts any
   * certificate, self-signed included: the link is encrypted but the server unproven.
   */
  rejectUnauthorized?: boolean;
  /**
   * Certificates (PEM) to trust instead of Node's built-in CA list: a private CA, or a
   * self-signed server certificate itself. Default: the built-in list.
   */
  ca?: TlsClientOptions['ca'];
  /**
   * Who opens data connections (listings and transfers): 'passive' (default: EPSV, then
   * PASV) or 'active' (EPRT, then PORT). A server that answers EPSV or EPRT with 500/502
   * gets PASV or PORT directly for the rest of the connection. Ignored when
   * `dataCommand` (or `forcePasv`) is given.
   */
  dataMode?: DataMode;
  /**
   * Exactly this data command, with no fallback: 'EPSV', 'PASV', 'EPRT' or 'PORT' (the
   * mode follows from it). A refusal fails the call (kind 'reply', the server's code),
   * every time. Overrides `dataMode` and `forcePasv`. Default: none (see `dataMode`).
   */
  dataCommand?: DataCommand;
  /** true is the same as `dataCommand: 'PASV'` (kept for existing callers). Default false. */
  forcePasv?: boolean;
  /**
   * Passive only: connect to the address in a 227 (PASV) reply even when it is not the
   * server's control connection address. Default false: the control address is used with
   * the 227's port, as curl and basic-ftp do, since a server behind NAT often advertises
   * a private address nobody can reach (and a hostile one could point elsewhere).
   */
  trustPasvAddress?: boolean;
  /**
   * Active only: the local address to listen on and announce in EPRT/PORT. Default: the
   * local address of the control connection. PORT can announce IPv4 addresses only.
   */
  activeHost?: string;
  /**
   * Milliseconds (default 30 000) allowed for connecting, for each reply, for a data
   * connection to open, and for silence on a data connection. A transfer may take any
   * time as long as bytes keep moving; its final reply is due within this time after the
   * last byte. Kind 'timeout'; a reply that does not come in time closes the connection
   * (a late one would be taken for the next command's).
   */
  timeoutMs?: number;
  /**
   * Aborts `connect` while it runs (kind 'aborted'), and afterwards every transfer that
   * has no `signal` of its own (ABOR; the connection stays usable).
   */
  signal?: AbortSignal;
  /**
   * Receives the dialogue line by line, the way `ftp -d` shows it: "---> CMD" for each
   * command (passwords masked), the server's reply lines, and notes on data connections,
   * TLS and fallbacks. Default: none.
   */
  trace?: Trace;
}

/** What `onProgress` receives, after each chunk of a transfer. */
export interface Progress {
  /** Bytes of the file so far: with `startAt`, counting from the start of the file (not of this transfer). */
  bytes: number;
  /**
   * Size of the whole file when known: `TransferOptions.total`, else SIZE before a
   * download or the local file's size before an upload; undefined when the server has
   * no SIZE (or does not answer it) and no `total` was given.
   */
  total?: number;
}

/** Options of one download, upload or append. */
export interface TransferOptions {
  /**
   * Resume at this byte offset (REST, then RETR or STOR). A download to a path writes
   * into the existing local file from this offset (it must exist; it is not truncated); a
   * stream receives the bytes from the offset on. A server that answered REST with
   * 500/502 before fails the call with kind 'usage' before any data connection is opened
   * or any local file touched; a REST refused now fails it before the transfer command.
   * REST is tried even when FEAT does not list REST STREAM (many servers forget to). Default 0 (the whole file).
   */
  startAt?: number;
  /**
   * Size of the whole file, for progress. Default: a download asks the server (SIZE;
   * without an answer, progress has no total), an upload from a path uses the file's size.
   */
  total?: number;
  /** Called after each chunk with the bytes so far and the total when known. */
  onProgress?: (progress: Progress) => void;
  /** Cancels the transfer: ABOR is sent, the call fails with kind 'aborted' and the connection stays usable. Default: the client's `signal`. */
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

/**
 * One logged-in FTP or FTPS session (`FtpClient.connect`). Calls may be made at once:
 * they run one at a time, in call order. Every failure is an `FtpClientError`.
 */
export class FtpClient {
  /** What FEAT said and what the server refused: decides MLSD or LIST, EPSV or PASV, and the rest. */
  private readonly capabilities = new ServerCapabilities();
  private queue: Promise<unknown> = Promise.resolve();
  private protectData = false;

  private constructor(
    private readonly control: ControlConnection,
    private readonly options: FtpClientOptions,
  ) {}

  /**
   * The server's FEAT reply: upper-cased keyword -> the rest of its line ("MLST" ->
   * "type*;size*;...", "REST" -> "STREAM"). Empty when the server has no FEAT.
   */
  get features(): ReadonlyMap<string, string> {
    return this.capabilities.features;
  }

  /**
   * Whether a transfer can resume (`startAt`): true until the server has answered REST
   * with 500/502 on this connection, whether or not FEAT lists REST (see `startAt`).
   */
  get canResume(): boolean {
    return this.capabilities.supports('REST');
  }

  /**
   * Connects and logs in: greeting, AUTH TLS (explicit FTPS), USER/PASS, FEAT, PBSZ 0 and
   * PROT P (FTPS), OPTS UTF8 ON (when FEAT lists UTF8), TYPE I. Fails with kind 'network',
   * 'timeout', 'tls', 'login', 'reply' (e.g. a 421 greeting) or 'aborted'.
   */
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
    this.capabilities.readFeat(await control.send('FEAT'));
    if (options.secure) {
      for (const command of ['PBSZ 0', 'PROT P']) {
        const reply = await control.send(command);
        if (reply.code >= 400) throw new FtpClientError('tls', `the server refused ${command}, so data connections cannot be protected: ${reply.code} ${reply.message}`, reply.code, { command });
      }
      this.protectData = true;
    }
    if (this.capabilities.utf8) await control.send('OPTS UTF8 ON');
    await control.expect('TYPE I');
  }

  /** Runs one operation at a time, in call order. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends any command line (in turn with the other calls) and returns the reply whatever
   * its code; only a lost connection, a timeout or CR/LF in the line throw. Must not
   * start a transfer: the client would not read its data connection.
   */
  send(command: string): Promise<FtpResponse> {
    return this.exclusive(() => this.control.send(command));
  }

  /** The current remote directory: the quoted path of PWD's 257 reply ("" inside it undone). */
  pwd(): Promise<string> {
    return this.exclusive(async () => parseQuotedPath((await this.control.expect('PWD', (c) => c === 257)).message));
  }

  /** Changes the remote directory (CWD); a missing one is kind 'not-found'. */
  cd(path: string): Promise<void> {
    return this.exclusive(async () => void (await this.control.expect(`CWD ${path}`, (c) => c === 250)));
  }

  /**
   * A remote file's size in bytes (SIZE). A missing file is kind 'not-found'; a server
   * without SIZE (500/502, remembered: not asked again) is kind 'usage' with its code.
   */
  size(path: string): Promise<number> {
    return this.exclusive(() => this.sizeUnlocked(path));
  }

  private async sizeUnlocked(path: string): Promise<number> {
    const reply = await this.sendNeeded('SIZE', `SIZE ${path}`, 213);
    const size = parseSize(reply.message);
    if (size === undefined) throw new FtpClientError('protocol', `bad SIZE reply: ${reply.message}`);
    return size;
  }

  /**
   * A remote file's modification time (MDTM, UTC). A missing file is kind 'not-found'; a
   * server without MDTM (500/502, remembered: not asked again) is kind 'usage' with its code.
   */
  lastModified(path: string): Promise<Date> {
    return this.exclusive(async () => {
      const reply = await this.sendNeeded('MDTM', `MDTM ${path}`, 213);
      const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(reply.message.trim());
      if (!m) throw new FtpClientError('protocol', `bad MDTM reply: ${reply.message}`);
      return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    });
  }

  /**
   * One entry, file or directory: MLST when the server has it (RFC 3659), else SIZE
   * (a file) or CWD (a directory). Rejects with kind 'not-found' when neither works.
   */
  stat(path: string): Promise<RemoteFile> {
    return this.exclusive(async () => {
      assertCommandSafe(path);
      const name = path.replace(/\/+$/, '').split('/').pop() || path;
      if (this.features.has('MLST')) {
        const reply = await this.control.expect(`MLST ${path}`, (c) => c === 250);
        // The facts come on the reply's second line (RFC 3659 7.2).
        const entry = reply.lines.length >= 3 ? parseMlsxLine(reply.lines[1]!) : null;
        if (!entry) throw new FtpClientError('protocol', `bad MLST reply: ${reply.lines.join(' | ')}`);
        return { ...entry, name };
      }
      // SIZE through the capabilities: a server that refused it once is not asked again.
      const size = this.capabilities.supports('SIZE') ? await this.control.send(`SIZE ${path}`) : null;
      if (size) this.capabilities.noteRefusal('SIZE', size.code, size.message);
      const bytes = size?.code === 213 ? parseSize(size.message) : undefined;
      if (bytes !== undefined) return { name, type: 'file', size: bytes, raw: size!.message };
      if (await this.isDirectoryUnlocked(path)) return { name, type: 'directory', raw: '' };
      if (!size) throw new FtpClientError('not-found', `${path}: neither a file the server can size nor a directory`);
      throw replyError(`SIZE ${path}`, size.code, size.message);
    });
  }

  /**
   * Sends a command that some servers lack and that the call cannot do without. A 500/502
   * is remembered, and then (as on every later call needing it) the call fails with kind
   * 'usage' without sending the command again; other negative replies are classified as usual.
   */
  private async sendNeeded(command: NeededCommand, line: string, expected: number): Promise<FtpResponse> {
    this.capabilities.assertSupported(command, line);
    const reply = await this.control.send(line);
    if (reply.code === expected) return reply;
    if (this.capabilities.noteRefusal(command, reply.code, reply.message)) this.capabilities.assertSupported(command, line);
    throw replyError(line, reply.code, reply.message);
  }

  /** Renames or moves a remote file or directory (RNFR, RNTO). */
  rename(from: string, to: string): Promise<void> {
    return this.exclusive(async () => {
      await this.control.expect(`RNFR ${from}`, (c) => c === 350);
      await this.control.expect(`RNTO ${to}`, (c) => c === 250);
    });
  }

  /** Deletes a remote file (DELE). */
  remove(path: string): Promise<void> {
    return this.exclusive(async () => void (await this.control.expect(`DELE ${path}`, (c) => c === 250)));
  }

  /** Creates a remote directory (MKD); with `recursive`, creates missing parents and accepts an existing directory. */
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

  /** Removes a remote directory (RMD); with `recursive`, deletes its files and subdirectories first (safe names only). */
  removeDir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.exclusive(() => this.removeDirUnlocked(path, options.recursive ?? false));
  }

  private async removeDirUnlocked(path: string, recursive: boolean, depth = 0): Promise<void> {
    if (recursive) {
      // A hostile server can invent folders inside folders forever: as deep as a tree walk goes, no deeper.
      if (depth > MAX_DEPTH) throw new FtpClientError('protocol', `${path}: nested deeper than ${MAX_DEPTH} folders; not removed`);
      for (const entry of await this.listUnlocked(path)) {
        if (!isSafeName(entry.name)) continue;
        const child = `${path.replace(/\/+$/, '')}/${entry.name}`;
        if (entry.type === 'directory') await this.removeDirUnlocked(child, true, depth + 1);
        else await this.control.expect(`DELE ${child}`, (c) => c === 250);
      }
    }
    await this.control.expect(`RMD ${path}`, (c) => c === 250);
  }

  /**
   * The entries of a remote directory (default: the current one). MLSD when FEAT lists
   * MLST; otherwise, or once MLSD has been answered with 500/502 (then LIST at once and
   * for the rest of the connection), LIST parsed in its Unix `ls -l` and DOS/IIS forms.
   */
  list(path = ''): Promise<RemoteFile[]> {
    return this.exclusive(() => this.listUnlocked(path));
  }

  private async listUnlocked(path: string): Promise<RemoteFile[]> {
    assertCommandSafe(path);
    if (this.capabilities.mlsd) {
      try {
        return parseMlsd(await this.listingUnlocked('MLSD', path));
      } catch (error) {
        // Only MLSD's own 500/502 (not one to the data command before it) means "no MLSD".
        if (!(error instanceof FtpClientError && error.command?.startsWith('MLSD') && this.capabilities.noteRefusal('MLSD', error.code, error.message))) throw error;
        this.options.trace?.(`MLSD refused (${error.code}); listing with LIST from now on`);
      }
    }
    return parseList(await this.listingUnlocked('LIST', path));
  }

  /** The text of one MLSD or LIST reply's data connection, bounded in size. */
  private async listingUnlocked(verb: 'MLSD' | 'LIST', path: string): Promise<string> {
    const command = `${verb}${path ? ` ${path}` : ''}`;
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
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Downloads (RETR) to a local path or a writable stream. A local file is opened only
   * once the server has accepted the RETR, so a refused download leaves an existing file
   * alone; it is created or truncated, or with `startAt` written into from that offset.
   * Resolves once the data has ended and the server's final reply is positive (226).
   */
  download(remotePath: string, destination: string | Writable, options: TransferOptions = {}): Promise<void> {
    return this.exclusive(async () => {
      assertCommandSafe(remotePath);
      // Without an answer to SIZE the download goes on without a total; a lost connection still fails it.
      const total = options.total ?? (await this.sizeUnlocked(remotePath).catch((error: unknown) => {
        if (this.control.closed) throw error;
        return undefined;
      }));
      const sink: StreamSource<Writable> =
        typeof destination === 'string'
          ? async () => createWriteStream('', { fd: await fs.open(destination, options.startAt ? 'r+' : 'w'), start: options.startAt })
          : async () => destination;
      await this.transferUnlocked(`RETR ${remotePath}`, 'download', sink, options, total);
    });
  }

  /**
   * Uploads from a local path or a readable stream (STOR, or APPE with `append`). With
   * `startAt`, REST then STOR, reading the local file from that offset (a stream is sent
   * as it is: it must start at the offset). Resolves once the server's final reply is positive.
   */
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

  /** Adds to the end of a remote file, creating it when missing (APPE). */
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
    // A server that cannot resume is known before any data connection: fail here.
    if (options.startAt) this.capabilities.assertSupported('REST', `REST ${options.startAt}`);
    let stream: Readable | Writable | undefined;
    const pending: PendingData = await prepareData(this.control, {
      mode: this.options.dataMode ?? 'passive',
      command: this.options.dataCommand ?? (this.options.forcePasv ? 'PASV' : undefined),
      trustPasvAddress: this.options.trustPasvAddress,
      activeHost: this.options.activeHost,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      trace: this.options.trace,
      capabilities: this.capabilities,
    });
    let dataSocket: Socket | undefined;
    let finalReply: Promise<FtpResponse> | undefined;
    try {
      if (options.startAt) await this.sendNeeded('REST', `REST ${options.startAt}`, 350);
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
      // Ctrl-C while the server has yet to connect (or to answer) ends the wait at once.
      dataSocket = await withDeadline(Promise.race([pending.connected(tls), refused]), { signal, onAbort: () => new FtpClientError('aborted', `${command}: aborted`) });
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      const socket = dataSocket;
      socket.setTimeout(timeoutMs, () => socket.destroy(new FtpClientError('timeout', `${command}: the data connection stalled (no bytes for ${timeoutMs / 1000} s)`)));
      stream = await openStream();
      // Bytes let through also count as activity: a throttled download pauses its socket
      // (backpressure) while the throttle passes on what it holds, and that is no stall.
      const moved = this.moveBytes(socket, direction, stream, options, total, signal, () => socket.setTimeout(timeoutMs));
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

  private async moveBytes(socket: Socket, direction: 'download' | 'upload', stream: Readable | Writable, options: TransferOptions, total: number | undefined, signal: AbortSignal | undefined, onBytes: () => void): Promise<void> {
    let bytes = options.startAt ?? 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        onBytes();
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
      // Bounded like every reply: a server silent after ABOR closes the connection, not hangs the call.
      if (transferReply) await this.control.within(transferReply).catch(() => undefined);
      await this.control.read();
    } catch {
      // The connection may be gone; the caller gets the abort error either way.
    }
  }

  /** Sends QUIT (after the calls already made) and closes the connection; never throws for a lost connection. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (!this.control.closed) await this.control.send('QUIT').catch(() => undefined);
      this.control.close();
    });
  }

  /**
   * Downloads the remote folder `remoteDir` ("" for the login directory) and everything
   * in it into `localDir` (created when missing). Remote names that could escape
   * `localDir` are refused (`onRefused`), local symbolic links are never followed.
   * See TreeTransferOptions for filters, resume, --only-newer, delete and dry runs.
   */
  downloadDir(remoteDir: string, localDir: string, options: TreeTransferOptions = {}): Promise<TreeTransferResult> {
    return downloadTree(this, () => FtpClient.connect(this.options), remoteDir, localDir, options);
  }

  /** Uploads the local folder `localDir` into `remoteDir` (created when missing); symbolic links are not uploaded. */
  uploadDir(localDir: string, remoteDir: string, options: TreeTransferOptions = {}): Promise<TreeTransferResult> {
    return uploadTree(this, () => FtpClient.connect(this.options), localDir, remoteDir, options);
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

/**
 * Whether a listing entry's name is safe to join to a local or remote path (a hostile
 * listing could name "../x"): the tree transfers' rule, safe-name.ts's unsafeNameReason.
 */
export function isSafeName(name: string): boolean {
  return unsafeNameReason(name) === undefined;
}
