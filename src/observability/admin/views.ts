/**
 * The web admin's data, as the JSON API returns it and the pages render it: live
 * sessions, bans and server stats; and its two actions, kick and unban.
 */
import type { Registry } from 'prom-client';
import type { AdminSources } from './sources.js';
import { TransferSpeeds } from './transfer-speeds.js';

export interface SessionView {
  id: string;
  user: string | null;
  remoteAddress: string;
  tls: boolean;
  command: string | null;
  transfer: { verb: string; path: string; bytes: number; speed: number } | null;
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

export class AdminData {
  private readonly speeds = new TransferSpeeds();
  private readonly startedAt = Date.now();

  constructor(
    private readonly sources: AdminSources,
    /** The metrics registry: the finished-transfer counters come from it. */
    private readonly registry: Registry,
  ) {}

  sessions(): SessionView[] {
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
      };
    });
  }

  bans(): BanView[] {
    return this.sources.bans().map((ban) => ({ address: ban.address, until: new Date(ban.until).toISOString() }));
  }

  async stats(): Promise<StatsView> {
    const sessions = this.sessions();
    const running = sessions.filter((session) => session.transfer !== null);
    return {
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      sessions: sessions.length,
      transfersRunning: running.length,
      transfersFinished: await this.counterTotal('ferry_transfers_total'),
      bytes: (await this.counterTotal('ferry_transfer_bytes_total')) + running.reduce((sum, session) => sum + session.transfer!.bytes, 0),
      bannedAddresses: this.sources.bans().length,
    };
  }

  /** Ends the session `id`; false when there is none. */
  kick(id: string, by: string): boolean {
    const session = [...this.sources.sessions()].find((candidate) => candidate.id === id);
    session?.kick(by);
    return session !== undefined;
  }

  unban(address: string, by: string): boolean {
    return this.sources.unban(address, by);
  }

  private async counterTotal(name: string): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? []).reduce((sum, sample) => sum + sample.value, 0);
  }
}
