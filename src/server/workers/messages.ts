/** What the primary and its workers tell each other over the cluster IPC channel (tagged `ferry`; prom-client's own messages share the channel). */
import type { ErrorCode } from '../../errors.js';
import type { AdminSnapshot } from '../../observability/admin/views.js';
import type { AbuseEvent } from '../defender.js';

export interface BoundListeners {
  address: string;
  port: number;
  implicitPort: number | null;
}

/** What the primary's web admin asks a worker (workers = N): its sessions, bans and counts, or to kick or unban. */
export type AdminQuestion = { kind: 'snapshot' } | { kind: 'kick'; id: string; by: string } | { kind: 'unban'; address: string; by: string };
/** A snapshot for 'snapshot'; for kick and unban, whether this worker had that session or ban. */
export type AdminAnswer = AdminSnapshot | boolean;

export type WorkerMessage =
  | { ferry: 'ready'; bound: BoundListeners }
  | { ferry: 'enter'; id: number; address: string }
  | { ferry: 'leave'; address: string }
  | { ferry: 'hold'; id: number; user: string; max: number }
  | { ferry: 'unhold'; user: string }
  | { ferry: 'abuse'; group: string; event: AbuseEvent }
  | { ferry: 'forgive'; group: string }
  | { ferry: 'admin-answer'; id: number; answer: AdminAnswer };

export type PrimaryMessage =
  /** The answer to an enter or a hold. */
  | { ferry: 'answer'; id: number; refusal: ErrorCode | null }
  /** `reachedHere`: the receiving worker's event reached the threshold, so it counts the ban. */
  | { ferry: 'ban'; group: string; until: number; reachedHere: boolean }
  | { ferry: 'lifted'; group: string }
  | { ferry: 'admin'; id: number; question: AdminQuestion }
  | { ferry: 'stop' }
  | { ferry: 'reload' };

export function isFerryMessage<T extends { ferry: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { ferry?: unknown }).ferry === 'string';
}
