/**
 * The web admin's data, as the JSON API returns it and the pages render it: live
 * sessions, bans and server stats; and its two actions, kick and unban. AdminData is the
 * seam between the pages and where the data lives: LocalAdminData reads this process's
 * sessions and defender; with workers = N the primary asks every worker's LocalAdminData
 * over the cluster channel (server/workers/workers-admin-data.ts) and merges the answers.
 */
import type { Registry } from 'prom-client';
import type { AdminSources } from './sources.js';
import { TransferSpeeds } from './transfer-speeds.js';

/** Which worker process a session is on (workers = N). */
export interface WorkerTag {
  index: number;
  pid: number;
}

export interface SessionView {
  id: string;
  user: string | null;
  remoteAddress: string;
  tls: boolean;
  command: string | null;
  transfer: { verb: string; path: string; bytes: number; speed: number } | null;
  /** Null with one process. */
  worker: WorkerTag | null;
}

export interface BanView {
  address: string;
  until: string;
}

export interface StatsView {
  uptimeSeconds: number;
  sessions: number;
  transfersRunning: number;
  /** Finished transfers and their bytes (ferry_transfers_total, ferry_transfer_bytes_total), plus the running ones' bytes. */
  transfersFinished: number;
  bytes: number;
  bannedAddresses: number;
}

/** Everything the dashboard shows, read at once (so its count of sessions matches its list). */
export interface AdminSnapshot {
  sessions: SessionView[];
  bans: BanView[];
  stats: StatsView;
}

export interface AdminData {
  /** True when sessions carry their worker (the dashboard shows a Worker column then). */
  readonly perWorker: boolean;
  snapshot(): Promise<AdminSnapshot>;
  /** Ends the session `id`; false when there is none. */
  kick(id: string, by: string): Promise<boolean>;
  /** False when `address` was not banned. */
  unban(address: string, by: string): Promise<boolean>;
}

/** This process's sessions and bans. */
export class LocalAdminData implements AdminData {
  readonly perWorker = false;
  private readonly speeds = new TransferSpeeds();
  private readonly startedAt = Date.now();

  constructor(
    private readonly sources: AdminSources,
    /** The metrics registry: the finished-transfer counters come from it. */
    private readonly registry: Registry,
  ) {}

  async snapshot(): Promise<AdminSnapshot> {
    const sessions = this.sessions();
    const bans = this.bans();
    const running = sessions.filter((session) => session.transfer !== null);
    const stats = {
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      sessions: sessions.length,
      transfersRunning: running.length,
      transfersFinished: await this.counterTotal('ferry_transfers_total'),
      bytes: (await this.counterTotal('ferry_transfer_bytes_total')) + running.reduce((sum, session) => sum + session.transfer!.bytes, 0),
      bannedAddresses: bans.length,
    };
    return { sessions, bans, stats };
  }

  async kick(id: string, by: string): Promise<boolean> {
    const session = [...this.sources.sessions()].find((candidate) => candidate.id === id);
    session?.kick(by);
    return session !== undefined;
  }

  async unban(address: string, by: string): Promise<boolean> {
    return this.sources.unban(address, by);
  }

  private sessions(): SessionView[] {
    return [...this.sources.sessions()].map((session) => {
      const { transfer } = session;
      const bytes = transfer?.bytes() ?? 0;
      return {
        id: session.id,
        user: session.user?.name ?? null,
        remoteAddress: session.remoteAddress,
        tls: session.connection.secure,
        command: session.currentCommand,
        transfer: transfer && { verb: transfer.verb, path: transfer.path, bytes, speed: this.speeds.speedOf(transfer, bytes) },
        worker: null,
      };
    });
  }

  private bans(): BanView[] {
    return this.sources.bans().map((ban) => ({ address: ban.address, until: new Date(ban.until).toISOString() }));
  }

  private async counterTotal(name: string): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? []).reduce((sum, sample) => sum + sample.value, 0);
  }
}
