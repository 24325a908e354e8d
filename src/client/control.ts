/**
 * The client's control connection: sends command lines, hands out replies in order,
 * upgrades to TLS (AUTH TLS or implicit), and reports the dialogue to a trace
 * function the way `ftp -d` does ("---> USER slacker", "---> PASS XXXX").
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { FtpClientError, networkError, replyError } from './errors.js';
import { ReplyParser, type FtpResponse } from './reply-parser.js';
import { redactCommand } from '../protocol/commands.js';
import { withDeadline } from '../util/deadline.js';

/** Receives one line of the dialogue at a time (see `FtpClientOptions.trace`). */
export type Trace = (line: string) => void;

/** TLS settings of the control and data connections (from `FtpClientOptions`). */
export interface TlsClientOptions {
  /** Name for SNI and the certificate check (an IP address is not sent as SNI). */
  servername?: string;
  /** Verify the certificate (default true). */
  rejectUnauthorized?: boolean;
  /** PEM certificates to trust instead of Node's CA list. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export class ControlConnection {
  private readonly parser = new ReplyParser();
  private readonly replies: FtpResponse[] = [];
  private readonly waiters: Array<{ resolve: (reply: FtpResponse) => void; reject: (error: Error) => void }> = [];
  private failure: Error | null = null;
  /** The latest TLS session of the control connection, for data connections to resume. */
  tlsSession: Buffer | undefined;

  private constructor(
    public socket: Socket,
    private readonly trace: Trace | undefined,
    private readonly timeoutMs: number,
  ) {
    this.listen(socket);
  }

  /** Opens the TCP (or, for implicit FTPS, TLS) connection; does not read the greeting. */
  static async open(options: { host: string; port: number; timeoutMs: number; trace?: Trace; implicitTls?: TlsClientOptions; signal?: AbortSignal }): Promise<ControlConnection> {
    const socket = await withDeadline<Socket>(
      (resolve, reject) => {
        const tcp = connectTcp({ host: options.host, port: options.port });
        tcp.once('error', (error) => reject(networkError(error, `cannot connect to ${options.host}:${options.port}`)));
        tcp.once('connect', () => resolve(tcp));
        return (error) => {
          if (error) tcp.destroy();
          else tcp.removeAllListeners('error');
        };
      },
      {
        timeoutMs: options.timeoutMs,
        onTimeout: () => new FtpClientError('timeout', `connecting to ${options.host}:${options.port} timed out`),
        signal: options.signal,
        onAbort: () => new FtpClientError('aborted', 'connect aborted'),
      },
    );
    options.trace?.(`Connected to ${options.host} (${socket.remoteAddress}) port ${options.port}.`);
    const control = new ControlConnection(socket, options.trace, options.timeoutMs);
    if (options.implicitTls) await control.upgrade({ ...options.implicitTls, servername: options.implicitTls.servername ?? options.host });
    return control;
  }

  private listen(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', this.onText);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private unlisten(socket: Socket): void {
    socket.off('data', this.onText);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private readonly onText = (text: string) => {
    let replies: FtpResponse[];
    try {
      replies = this.parser.feed(text);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    for (const reply of replies) {
      for (const line of reply.lines) this.trace?.(line);
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  };

  private readonly onError = (error: Error) => this.fail(networkError(error, 'control connection'));
  private readonly onClose = () => this.fail(new FtpClientError('network', 'the server closed the control connection'));

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '';
  }

  /**
   * The next reply, in order. `timed: false` waits as long as it takes: for the final
   * reply of a transfer, which comes only after the data (see `within`).
   */
  read(timed = true): Promise<FtpResponse> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = timed ? setTimeout(() => this.timedOut(), this.timeoutMs) : undefined;
      const waiter = {
        resolve: (reply: FtpResponse) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for a reply already asked for with `read(false)`, at most the reply timeout from now. */
  async within(reply: Promise<FtpResponse>): Promise<FtpResponse> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.timedOut();
        reject(this.failure);
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([reply, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A late reply would be taken for the answer to the next command: the dialogue is out
   * of step for good, so the connection is closed.
   */
  private timedOut(): void {
    this.fail(new FtpClientError('timeout', `no reply from the server within ${this.timeoutMs / 1000} s`));
    this.socket.destroy();
  }

  /** Sends one command line; CR or LF in it would smuggle a second command, so they are refused. */
  write(command: string): void {
    if (/[\r\n]/.test(command)) throw new FtpClientError('usage', 'a command or path must not contain CR or LF');
    if (this.failure) throw this.failure;
    this.trace?.(`---> ${redactCommand(command, 'trace')}`);
    this.socket.write(command + '\r\n');
  }

  /** Sends a command and returns its reply (whatever the code). */
  async send(command: string): Promise<FtpResponse> {
    this.write(command);
    return this.read();
  }

  /** Sends a command and throws unless the reply is positive (1xx-3xx). */
  async expect(command: string, accept: (code: number) => boolean = (code) => code < 400): Promise<FtpResponse> {
    const reply = await this.send(command);
    if (!accept(reply.code)) throw replyError(command, reply.code, reply.message);
    return reply;
  }

  /** Wraps the control connection in TLS (after 234, or at once for implicit FTPS). */
  async upgrade(options: TlsClientOptions): Promise<void> {
    const plain = this.socket;
    this.unlisten(plain);
    const secure: TLSSocket = await new Promise((resolve, reject) => {
      const tlsOptions: ConnectionOptions = {
        socket: plain,
        servername: options.servername && !/^[\d.:]+$/.test(options.servername) ? options.servername : undefined,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        ca: options.ca,
        minVersion: 'TLSv1.2',
      };
      const socket = connectTls(tlsOptions, () => {
        socket.off('error', onError);
        resolve(socket);
      });
      const onError = (error: Error) => reject(networkError(error, 'TLS handshake on the control connection'));
      socket.once('error', onError);
      socket.on('session', (session: Buffer) => (this.tlsSession = session));
    });
    this.socket = secure;
    this.listen(secure);
    this.trace?.(`TLS: ${secure.getProtocol()} ${secure.getCipher().name}, certificate ${secure.authorized ? 'verified' : `not verified (${secure.authorizationError ?? 'self-signed'})`}`);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
