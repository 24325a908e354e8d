/**
 * A session's data-connection setup: what the last PASV/EPSV or PORT/EPRT prepared, and
 * opening it when a transfer command needs it. One preparation serves one transfer.
 */
import type { Socket } from 'node:net';
import { FtpError } from '../../errors.js';
import { canonicalAddress } from '../../protocol/address.js';
import { connectActive, type ActiveTarget } from './active-connector.js';
import { PassiveListener } from './passive-listener.js';
import type { PassivePortPool } from './port-pool.js';

export interface DataChannelOptions {
  pool: PassivePortPool;
  /** Control connection addresses: passive listens on the local one, only the remote one may connect. */
  localAddress: string;
  remoteAddress: string;
  passivePromiscuous: boolean;
  connectFromPort20: boolean;
  connectTimeoutMs: number;
  onRefusedPassivePeer: (address: string) => void;
}

export class DataChannel {
  private passive: PassiveListener | null = null;
  private active: ActiveTarget | null = null;

  constructor(private readonly options: DataChannelOptions) {}

  /** Opens a passive listener (closing any previous one) and returns its port. */
  async preparePassive(): Promise<number> {
    this.reset();
    const listener = await PassiveListener.open(this.options.pool, {
      host: canonicalAddress(this.options.localAddress),
      allowedPeer: this.options.passivePromiscuous ? null : this.options.remoteAddress,
      onRefused: this.options.onRefusedPassivePeer,
    });
    this.passive = listener;
    return listener.port;
  }

  prepareActive(target: ActiveTarget): void {
    this.reset();
    this.active = target;
  }

  /** Whether PASV/EPSV/PORT/EPRT has prepared a data connection for the next transfer. */
  get isPrepared(): boolean {
    return this.passive !== null || this.active !== null;
  }

  describe(): string {
    if (this.passive) return `passive, listening on port ${this.passive.port}`;
    if (this.active) return `active, will connect to ${this.active.host} port ${this.active.port}`;
    return 'no data connection prepared';
  }

  /** The data connection for one transfer; the preparation is used up either way. */
  async open(signal: AbortSignal): Promise<Socket> {
    const { passive, active } = this;
    this.passive = null;
    this.active = null;
    if (passive) {
      const socket = await passive.waitForConnection(this.options.connectTimeoutMs, signal);
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
    this.passive?.close();
    this.passive = null;
    this.active = null;
  }
}
