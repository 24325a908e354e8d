/**
 * The accept-time limits counted somewhere else than in this process: connection_rate,
 * max_clients and max_per_ip across several worker processes (workers/primary-link.ts).
 * The server asks before it opens a session and says when it is gone.
 */
import type { ErrorCode } from '../errors.js';
import type { AbuseLedger, Defender } from './defender.js';

export interface ConnectionGate {
  /** Takes a place for a connection from `address`, or says why it is refused. */
  enter(address: string): Promise<ErrorCode | null>;
  /** The connection that entered from `address` has closed. */
  leave(address: string): void;
}

/** Bans shared beyond this process (Redis between nodes, or the primary between workers). */
export interface SharedBanLedger extends AbuseLedger {
  /** Starts adopting the bans reached elsewhere (and those in force) into `defender`. */
  start(defender: Defender): Promise<void>;
  close(): Promise<void>;
}
