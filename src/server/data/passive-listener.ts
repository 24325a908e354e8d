/**
 * One passive data connection: listens on a pooled port, accepts exactly one
 * connection from the allowed peer, then closes the listener (releasing the port).
 * Connections from other addresses are refused and logged (data-connection theft,
 * vsftpd's pasv_promiscuous=NO), and the legitimate client can still connect.
 *
 * The listener lives at most `lifetimeMs` from PASV/EPSV (timeouts.data_connect) unless a
 * transfer takes its connection: a client that asks for a port and never uses it cannot
 * hold a pooled port, nor an accepted-but-unused connection, for longer than that.
 */
import type { Socket } from 'node:net';
import { FtpError } from '../../errors.js';
import { sameAddress } from '../../protocol/address.js';
import { withDeadline } from '../../util/deadline.js';
import { DataConnectError } from './data-connect-error.js';
import { readProxyHeader, type ProxyTrust } from '../proxy-protocol.js';
import type { BoundListener, PassivePortPool } from './port-pool.js';

export interface PassiveListenerOptions {
  host: string;
  /** Only this address may connect; null accepts anyone. */
  allowedPeer: string | null;
  onRefused: (address: string) => void;
  /** From PASV to the transfer taking the connection; past it the listener closes itself. */
  lifetimeMs: number;
  /** The address the 227 reply gave (PASV), for the diagnostics; EPSV has none. */
  advertised?: string;
  /** The listener closed without the client ever connecting, when that looks like a blocked port. */
  onSilent?: (silence: PassiveSilence) => void;
  /** A connection from one of these proxies names its client in a PROXY header, read before the theft check. */
  proxyTrust?: ProxyTrust;
}

/** A passive port the client asked for and never connected to. */
export interface PassiveSilence {
  port: number;
  advertised?: string;
  heldMs: number;
  /** Its lifetime ran out, a transfer waited for it in vain, or it was dropped (new PASV, session end) after a long wait. */
  why: 'expired' | 'transfer-waited' | 'dropped';
}

/**
 * A listener dropped unused after this long counts as silent too: a client that gave up
 * on a blocked port usually closes the session before the listener's lifetime ends,
 * while clients that merely replace one PASV by another do so within milliseconds.
 */
const SILENCE_AFTER_MS = 5000;

export const EXPIRED_MESSAGE = "Can't open data connection: the passive port was released because no transfer used it in time; send PASV or EPSV again.";

export class PassiveListener {
  private accepted: Socket | null = null;
  private everConnected = false;
  private readonly openedAt = Date.now();
  private waiter: { resolve: (socket: Socket) => void; reject: (error: Error) => void } | null = null;
  private closed = false;
  private expired = false;
  private lifetime: NodeJS.Timeout | undefined;

  private constructor(
    private readonly bound: BoundListener,
    private readonly options: PassiveListenerOptions,
  ) {
    bound.server.on('connection', (socket) => {
      if (this.options.proxyTrust?.trusts(socket.remoteAddress ?? '')) void this.onProxiedConnection(socket);
      else this.onConnection(socket, socket.remoteAddress ?? '');
    });
    this.armLifetime();
  }

  private armLifetime(): void {
    this.lifetime = setTimeout(() => {
      this.expired = true;
      this.close();
    }, this.options.lifetimeMs);
  }

  /**
   * A transfer command has started: what it does before it needs the connection (reading
   * a large directory, opening a file) must not count against the lifetime. The client
   * then gets the full time again once the transfer waits for it (waitForConnection).
   */
  claim(): void {
    clearTimeout(this.lifetime);
    this.lifetime = undefined;
  }

  /** The command ended without using the connection (550, say): the lifetime runs again. */
  unclaim(): void {
    if (!this.closed && this.lifetime === undefined) this.armLifetime();
  }

  /** The lifetime ran out (the port and any accepted connection are released). */
  get hasExpired(): boolean {
    return this.expired;
  }

  static async open(pool: PassivePortPool, options: PassiveListenerOptions): Promise<PassiveListener> {
    return new PassiveListener(await pool.listen(options.host), options);
  }

  get port(): number {
    return this.bound.port;
  }

  /** Through a trusted proxy: the client is the one its PROXY header names (a LOCAL header names nobody: refused). */
  private async onProxiedConnection(socket: Socket): Promise<void> {
    socket.on('error', () => undefined);
    const addresses = await readProxyHeader(socket).catch(() => null);
    if (!addresses?.source || this.closed) {
      socket.destroy();
      return;
    }
    this.onConnection(socket, addresses.source.address);
  }

  private onConnection(socket: Socket, peer: string): void {
    if (this.accepted || this.closed || (this.options.allowedPeer !== null && !sameAddress(peer, this.options.allowedPeer))) {
      if (!this.accepted && !this.closed) this.options.onRefused(peer);
      socket.destroy();
      return;
    }
    this.accepted = socket;
    this.everConnected = true;
    socket.on('error', () => undefined); // reported by whoever uses the socket
    this.bound.release();
    this.waiter?.resolve(socket);
    this.waiter = null;
  }

  /** The accepted connection, waiting for the client to connect until the listener's lifetime ends. */
  waitForConnection(signal?: AbortSignal): Promise<Socket> {
    if (this.closed) return Promise.reject(new FtpError('FERRY_ERR_DATA_CONNECT', this.expired ? EXPIRED_MESSAGE : undefined));
    if (this.accepted) return Promise.resolve(this.accepted);
    if (this.lifetime === undefined) this.armLifetime();
    return withDeadline<Socket>(
      (resolve, reject) => {
        this.waiter = { resolve, reject };
        return (error) => {
          this.waiter = null;
          if (error) this.close();
        };
      },
      { signal, onAbort: () => new FtpError('FERRY_ERR_DATA_ABORTED') },
    );
  }

  /** Stops listening; an accepted but unused connection is closed too. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lifetime);
    this.bound.release();
    this.reportSilence();
    if (this.waiter) {
      const target = `${this.options.advertised ?? this.options.host}:${this.port}`;
      const timedOut = new DataConnectError({ mode: 'passive', target, failure: 'timed-out' }, `Can't open data connection: the client did not connect to port ${this.port} in time.`);
      this.waiter.reject(this.expired ? timedOut : new FtpError('FERRY_ERR_DATA_CONNECT'));
    }
    this.accepted?.destroy();
  }

  private reportSilence(): void {
    if (this.everConnected || !this.options.onSilent) return;
    const heldMs = Date.now() - this.openedAt;
    const why = this.waiter ? 'transfer-waited' : this.expired ? 'expired' : heldMs >= SILENCE_AFTER_MS ? 'dropped' : null;
    if (why) this.options.onSilent({ port: this.port, advertised: this.options.advertised, heldMs, why });
  }

  /** Hands the accepted socket over: close() no longer destroys it. */
  detach(): void {
    this.accepted = null;
    this.close();
  }
}
