/**
 * A session's data-connection setup: what the last PASV/EPSV or PORT/EPRT prepared, and
 * opening it when a transfer command needs it. One preparation serves one transfer.
 */
import type { Socket } from 'node:net';
import { FtpError } from '../../errors.js';
import { canonicalAddress } from '../../protocol/address.js';
import { connectActive, type ActiveTarget } from './active-connector.js';
import { EXPIRED_MESSAGE, PassiveListener, type PassiveSilence } from './passive-listener.js';
import type { PassivePortPool } from './port-pool.js';
import type { ProxyTrust } from '../proxy-protocol.js';

export interface DataChannelOptions {
  pool: PassivePortPool;
  /** Control connection addresses: passive listens on the local one, only the remote one may connect. */
  localAddress: string;
  remoteAddress: string;
  passivePromiscuous: boolean;
  connectFromPort20: boolean;
  /** Active: time to connect at the transfer command. Passive: lifetime of the listener from PASV/EPSV. */
  connectTimeoutMs: number;
  onRefusedPassivePeer: (address: string) => void;
  /** A passive port was never connected to (a firewall or a wrong advertised address, most likely). */
  onPassiveSilence: (silence: PassiveSilence) => void;
  /** Proxies whose passive data connections start with a PROXY header naming the client. */
  proxyTrust: ProxyTrust;
}

export class DataChannel {
  private passive: PassiveListener | null = null;
  private active: ActiveTarget | null = null;
  /** Bumped by reset(): a PASV still opening its listener then knows it was cancelled. */
  private generation = 0;

  constructor(private readonly options: DataChannelOptions) {}

  /**
   * Opens a passive listener (closing any previous one: one per session) and returns its
   * port. It closes itself after connectTimeoutMs unless a transfer has taken it by then.
   * `advertised` is the address the 227 reply gives, named if the client never connects.
   */
  async preparePassive(advertised?: string): Promise<number> {
    this.reset();
    const generation = this.generation;
    const listener = await PassiveListener.open(this.options.pool, {
      host: canonicalAddress(this.options.localAddress),
      allowedPeer: this.options.passivePromiscuous ? null : this.options.remoteAddress,
      onRefused: this.options.onRefusedPassivePeer,
      lifetimeMs: this.options.connectTimeoutMs,
      advertised,
      onSilent: this.options.onPassiveSilence,
      proxyTrust: this.options.proxyTrust,
    });
    if (generation !== this.generation) {
      // The session ended (or was reset) while the port was being bound.
      listener.close();
      throw new FtpError('FERRY_ERR_DATA_CONNECT');
    }
    this.passive = listener;
    return listener.port;
  }

  prepareActive(target: ActiveTarget): void {
    this.reset();
    this.active = target;
  }

  /** Whether PASV/EPSV/PORT/EPRT has prepared a data connection for the next transfer. */
  get isPrepared(): boolean {
    return (this.passive !== null && !this.passive.hasExpired) || this.active !== null;
  }

  /** Active mode: the server opens the connection, so it can do so before the 150 reply. */
  get connectsBack(): boolean {
    return this.active !== null;
  }

  /** Why a transfer cannot have a data connection now (when it is not prepared). */
  get unpreparedReason(): string {
    return this.passive?.hasExpired ? EXPIRED_MESSAGE : 'Use PORT, EPRT, PASV or EPSV first.';
  }

  describe(): string {
    if (this.passive?.hasExpired) return 'passive port released (no transfer used it in time)';
    if (this.passive) return `passive, listening on port ${this.passive.port}`;
    if (this.active) return `active, will connect to ${this.active.host} port ${this.active.port}`;
    return 'no data connection prepared';
  }

  /** A transfer command has started: the passive listener no longer expires until it waits for the connection. */
  claim(): void {
    this.passive?.claim();
  }

  /** The command ended without taking the connection: the listener's lifetime runs again. */
  unclaim(): void {
    this.passive?.unclaim();
  }

  /** The data connection for one transfer; the preparation is used up either way. */
  async open(signal: AbortSignal): Promise<Socket> {
    const { passive, active } = this;
    this.passive = null;
    this.active = null;
    if (passive) {
      const socket = await passive.waitForConnection(signal);
      passive.detach();
      return socket;
    }
    if (active) {
      return connectActive(active, {
        localAddress: canonicalAddress(this.options.localAddress),
        fromPort20: this.options.connectFromPort20,
        timeoutMs: this.options.connectTimeoutMs,
        signal,
      });
    }
    throw new FtpError('FERRY_ERR_DATA_CONNECT', 'Use PORT, EPRT, PASV or EPSV first.');
  }

  /** Drops whatever was prepared (a new PASV, REIN, ABOR, session end). */
  reset(): void {
    this.generation++;
    this.passive?.close();
    this.passive = null;
    this.active = null;
  }
}
