/**
 * Several workers' admin snapshots as one (workers = N): every worker's sessions, tagged
 * with their worker; each ban once (every worker holds every ban: the latest end wins);
 * the counts summed, but banned addresses counted once and the uptime the primary's.
 */
import type { AdminSnapshot, BanView, StatsView, WorkerTag } from './views.js';

export interface WorkerSnapshot {
  worker: WorkerTag;
  snapshot: AdminSnapshot;
}

function mergeBans(lists: readonly BanView[][]): BanView[] {
  const byAddress = new Map<string, BanView>();
  for (const ban of lists.flat()) {
    const known = byAddress.get(ban.address);
    if (!known || Date.parse(ban.until) > Date.parse(known.until)) byAddress.set(ban.address, ban);
  }
  return [...byAddress.values()];
}

const SUMMED = ['sessions', 'transfersRunning', 'transfersFinished', 'bytes'] as const satisfies ReadonlyArray<keyof StatsView>;

export function mergeSnapshots(parts: readonly WorkerSnapshot[], uptimeSeconds: number): AdminSnapshot {
  const sessions = parts.flatMap(({ worker, snapshot }) => snapshot.sessions.map((session) => ({ ...session, worker })));
  const bans = mergeBans(parts.map(({ snapshot }) => snapshot.bans));
  const stats: StatsView = { uptimeSeconds, sessions: 0, transfersRunning: 0, transfersFinished: 0, bytes: 0, bannedAddresses: bans.length };
  for (const { snapshot } of parts) for (const key of SUMMED) stats[key] += snapshot.stats[key];
  return { sessions, bans, stats };
}
