/**
 * The primary's side of the workers' shared bans: every worker reports each abusive event
 * (its defender has already applied the allow list), the primary counts them together per
 * address within the observation window and, at the threshold, bans the address in every
 * worker; a ban lifted in one worker (the web admin) is lifted in all. A worker that
 * (re)starts takes the bans in force.
 */
import { AbuseScores, dropOldest } from '../abuse-scores.js';

export interface BanRelayOptions {
  threshold: number;
  observationMs: number;
  banMs: number;
  /** Most addresses scored and banned at once (oldest dropped first). */
  maxEntries?: number;
  now?: () => number;
}

export class BanRelay {
  private readonly scores: AbuseScores;
  /** Group -> end of its ban; in order of ban, so of expiry. */
  private readonly bans = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: BanRelayOptions) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.scores = new AbuseScores({ threshold: options.threshold, observationMs: options.observationMs, maxEntries: this.maxEntries });
  }

  /** Scores one event; returns the ban's end when this event reached the threshold. */
  report(group: string, now = this.now()): number | null {
    this.sweep(now);
    if ((this.bans.get(group) ?? 0) > now) return null;
    if (this.scores.hit(group, now) === null) return null;
    const until = now + this.options.banMs;
    this.bans.set(group, until);
    dropOldest(this.bans, this.maxEntries);
    return until;
  }

  forgive(group: string): void {
    this.scores.forget(group);
    this.bans.delete(group);
  }

  inForce(): Array<{ group: string; until: number }> {
    const now = this.now();
    this.sweep(now);
    return [...this.bans].map(([group, until]) => ({ group, until }));
  }

  private sweep(now: number): void {
    for (const [group, until] of this.bans) {
      if (until > now) break;
      this.bans.delete(group);
    }
    this.scores.sweep(now);
  }
}
