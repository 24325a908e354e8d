/**
 * A worker's side of the IPC channel to the primary: the connection gate (the primary
 * counts connection_rate, max_clients and max_per_ip for all workers: one round trip per
 * accepted connection) and the shared ban ledger (events go up, bans come down).
 */
import type { ErrorCode } from '../../errors.js';
import type { ConnectionGate, SharedBanLedger } from '../connection-gate.js';
import type { AbuseEvent, Defender } from '../defender.js';
import { isFerryMessage, type PrimaryMessage, type WorkerMessage } from './messages.js';

export function sendToPrimary(message: WorkerMessage): void {
  // The channel closes when the primary is gone; the worker is stopping then.
  if (process.connected) process.send!(message);
}

export class PrimaryGate implements ConnectionGate {
  private nextId = 0;
  private readonly waiting = new Map<number, (refusal: ErrorCode | null) => void>();

  constructor() {
    process.on('message', (message) => {
      if (!isFerryMessage<PrimaryMessage>(message) || message.ferry !== 'entered') return;
      this.waiting.get(message.id)?.(message.refusal);
      this.waiting.delete(message.id);
    });
  }

  enter(address: string): Promise<ErrorCode | null> {
    // Without the primary nobody counts: refuse rather than exceed the limits.
    if (!process.connected) return Promise.resolve('FERRY_ERR_SHUTTING_DOWN');
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      sendToPrimary({ ferry: 'enter', id, address });
    });
  }

  leave(address: string): void {
    sendToPrimary({ ferry: 'leave', address });
  }
}

export class PrimaryBanLedger implements SharedBanLedger {
  private readonly onMessage = (message: unknown): void => {
    if (!isFerryMessage<PrimaryMessage>(message) || !this.defender) return;
    if (message.ferry === 'ban') this.defender.adoptBan(message.group, message.until);
    else if (message.ferry === 'lifted') this.defender.forgetBan(message.group);
  };
  private defender: Defender | null = null;

  /** The bans in force arrive as messages once the worker says it is ready. */
  async start(defender: Defender): Promise<void> {
    this.defender = defender;
    process.on('message', this.onMessage);
  }

  report(group: string, event: AbuseEvent): void {
    sendToPrimary({ ferry: 'abuse', group, event });
  }

  forgive(group: string): void {
    sendToPrimary({ ferry: 'forgive', group });
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    this.defender = null;
  }
}
