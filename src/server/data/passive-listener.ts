/**
 * One passive data connection: listens on a pooled port, accepts exactly one
 * connection from the allowed peer, then closes the listener (releasing the port).
 * Connections from other addresses are refused and logged (data-connection theft,
 * vsftpd's pasv_promiscuous=NO), and the legitimate client can still connect.
 */
import type { Socket } from 'node:net';
import { FtpError } from '../../errors.js';
import { sameAddress } from '../../protocol/address.js';
import type { BoundListener, PassivePortPool } from './port-pool.js';

export interface PassiveListenerOptions {
  host: string;
  /** Only this address may connect; null accepts anyone. */
  allowedPeer: string | null;
  onRefused: (address: string) => void;
}

export class PassiveListener {
  private accepted: Socket | null = null;
  private waiter: { resolve: (socket: Socket) => void; reject: (error: Error) => void } | null = null;
  private closed = false;

  private constructor(
    private readonly bound: BoundListener,
    private readonly options: PassiveListenerOptions,
  ) {
    bound.server.on('connection', (socket) => this.onConnection(socket));
  }

  static async open(pool: PassivePortPool, options: PassiveListenerOptions): Promise<PassiveListener> {
    return new PassiveListener(await pool.listen(options.host), options);
  }

  get port(): number {
    return this.bound.port;
  }

  private onConnection(socket: Socket): void {
    const peer = socket.remoteAddress ?? '';
    if (this.accepted || this.closed || (this.options.allowedPeer !== null && !sameAddress(peer, this.options.allowedPeer))) {
      if (!this.accepted && !this.closed) this.options.onRefused(peer);
      socket.destroy();
      return;
    }
    this.accepted = socket;
    socket.on('error', () => undefined); // reported by whoever uses the socket
    this.bound.release();
    this.waiter?.resolve(socket);
    this.waiter = null;
  }

  /** The accepted connection, waiting up to `timeoutMs` for the client to connect. */
  waitForConnection(timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
    if (this.accepted) return Promise.resolve(this.accepted);
    if (this.closed) return Promise.reject(new FtpError('FERRY_ERR_DATA_CONNECT'));
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => fail(new FtpError('FERRY_ERR_DATA_CONNECT', "Can't open data connection: the client did not connect in time.")), timeoutMs);
      const onAbort = () => fail(new FtpError('FERRY_ERR_DATA_ABORTED'));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = null;
      };
      const fail = (error: Error) => {
        done();
        this.close();
        reject(error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (socket) => {
          done();
          resolve(socket);
        },
        reject: fail,
      };
    });
  }

  /** Stops listening; an accepted but unused connection is closed too. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bound.release();
    if (this.waiter) this.waiter.reject(new FtpError('FERRY_ERR_DATA_CONNECT'));
    this.accepted?.destroy();
  }

  /** Hands the accepted socket over: close() no longer destroys it. */
  detach(): void {
    this.accepted = null;
    this.close();
  }
}
