/**
 * The defender (defender.*; after SFTPGo's defender): scores abusive events -- failed
 * logins, connections closed for too many failures -- per client address across
 * sessions, and bans an address that reaches `threshold` within `observation_time` for
 * `ban_time`. Bans are per address, never per user name, so nobody can lock a user out
 * by failing logins in their name. Addresses on the allow list are never banned.
 * An IPv6 client counts as its /64 (addressGroup), so rotating through the addresses
 * of one subscriber's prefix does not reset its score.
 *
 * It also bounds the password checks (scrypt, on libuv's 4-thread pool) an address
 * has in flight: a PASS is refused while that address's checks in progress plus its
 * recent failures reach `threshold`, so a wave of parallel PASS commands from one
 * address hashes at most `threshold` passwords -- no more than a ban would have
 * allowed -- instead of queueing hundreds of jobs ahead of other users' logins. This
 * cap applies even when the defender is disabled (then with no failures counted: at
 * most `threshold` checks at once), because it protects other users, not the account;
 * allowed addresses are exempt.
 *
 * Memory is bounded: failure records and bans live in maps kept in time order (oldest
 * first), expired entries are swept from the front on every call, and past the caps
 * the oldest entries are dropped.
 */
import type { Logger } from 'pino';
import { events, type BanEvent } from '../observability/events.js';
import { addressGroup, addressMatcher } from '../protocol/address.js';
import { AbuseScores, dropOldest } from './abuse-scores.js';

/** What an address did; each event adds one to its score. */
export type AbuseEvent = 'login-failed' | 'too-many-failures';

export interface DefenderOptions {
  enabled: boolean;
  threshold: number;
  observationMs: number;
  banMs: number;
  /** Addresses or CIDR ranges never banned (validated by the config schema). */
  allow: readonly string[];
  logger: Logger;
  /** Where the events are also counted for other nodes (`[cluster] redis`), if anywhere. */
  shared?: AbuseLedger;
  /** Most addresses with a failure record, and most bans, kept at once. */
  maxEntries?: number;
  now?: () => number;
}

/** Abusive events counted across nodes (or workers): a ban reached there comes back through Defender.adoptBan. */
export interface AbuseLedger {
  report(group: string, event: AbuseEvent): void;
  /** An administrator lifted the ban of `group` here: the shared ban and score go too. */
  forgive(group: string): void;
  /**
   * The ledger sees every event reported and decides a ban on each that reaches the
   * threshold (the primary, between workers): a ban this process reaches itself is
   * enforced at once but counted when that decision comes back, so the server counts
   * each ban once. Absent for Redis, which may be away: a node counts what it decides.
   */
  readonly decidesEveryBan?: boolean;
}

/** Where an adopted ban was decided. */
export interface BanOrigin {
  /**
   * Named in its log line: "the primary" (between workers), "another node" (through
   * Redis), or "the cluster count" (this node's event took the count in Redis to the
   * threshold, though not its own).
   */
  by: 'the primary' | 'another node' | 'the cluster count';
  /**
   * This process's event reached the threshold there: it counts the ban (ferry_bans_total),
   * the others only enforce it. Where the ledger does not decide every ban (Redis), a
   * ban this process already made itself was counted then, and is not counted again.
   */
  reachedHere: boolean;
}

/** A ban in force, as the web admin lists it. */
export interface BanEntry {
  /** The address, or an IPv6 client's /64 ("2001:db8:0:1::/64"). */
  address: string;
  /** When the ban ends (ms since the epoch). */
  until: number;
}

/** A password check in progress; end it exactly once, when the check has settled. */
export interface LoginCheck {
  /** Releases the check and, when it `failed`, scores the failure in the same step; true when the address is banned. */
  end(failed: boolean): boolean;
}

export class Defender {
  /** Address -> recent events. */
  private readonly records: AbuseScores;
  /** Address -> end of its ban (ms); in order of ban, so also of expiry (ban_time is fixed). */
  private readonly bans = new Map<string, number>();
  /** Address -> password checks in progress (entries exist only while checks run). */
  private readonly checksInFlight = new Map<string, number>();
  private readonly isAllowed: (address: string) => boolean;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: DefenderOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    this.isAllowed = addressMatcher(options.allow);
    this.records = new AbuseScores({ threshold: options.threshold, observationMs: options.observationMs, maxEntries: this.maxEntries });
  }

  /** Bans in force now (adopted bans arrive out of order, so expired ones may still be held). */
  get bannedCount(): number {
    const now = this.now();
    this.sweep(now);
    let count = 0;
    for (const until of this.bans.values()) if (until > now) count++;
    return count;
  }

  /** The bans in force now, oldest first. */
  listBans(): BanEntry[] {
    const now = this.now();
    this.sweep(now);
    return [...this.bans].filter(([, until]) => until > now).map(([address, until]) => ({ address, until }));
  }

  /**
   * Lifts the ban of `address` (as listBans names it, or any address of the banned group)
   * and forgets its failures, here and in the shared ledger; false when it was not banned.
   */
  unban(address: string, by: string): boolean {
    const group = this.bans.has(address) ? address : addressGroup(address);
    this.records.forget(group);
    if (!this.banned(group, this.now())) return false;
    this.bans.delete(group);
    this.options.shared?.forgive(group);
    this.options.logger.warn({ address: group, by }, 'ban lifted by an administrator');
    return true;
  }

  /** A ban an administrator lifted elsewhere (`where`: another worker through the primary, another node through Redis). */
  forgetBan(group: string, where: 'another worker' | 'another node'): void {
    this.records.forget(group);
    if (this.bans.delete(group)) this.options.logger.info({ address: group }, `ban lifted (in ${where})`);
  }

  /** True while `address` is banned (expired bans are lifted here, with their log line). */
  isBanned(rawAddress: string): boolean {
    if (!this.options.enabled) return false;
    this.sweep(this.now());
    return this.banned(addressGroup(rawAddress), this.now()) && !this.isAllowed(rawAddress);
  }

  /**
   * Starts a password check for `address`, or returns null when its checks in flight
   * plus its recent failures already reach the threshold (the PASS is to be refused).
   */
  beginLoginCheck(rawAddress: string): LoginCheck | null {
    if (this.isAllowed(rawAddress)) return { end: () => false };
    const group = addressGroup(rawAddress);
    const inFlight = this.checksInFlight.get(group) ?? 0;
    if (inFlight + this.recentFailures(group) >= this.options.threshold) return null;
    this.checksInFlight.set(group, inFlight + 1);
    return {
      end: (failed) => {
        const left = (this.checksInFlight.get(group) ?? 1) - 1;
        if (left > 0) this.checksInFlight.set(group, left);
        else this.checksInFlight.delete(group);
        return failed ? this.record(rawAddress, 'login-failed') : false;
      },
    };
  }

  /**
   * Scores one abusive event for `address`; bans it when the score reaches the
   * threshold. Returns true when the address is banned (now or already).
   */
  record(rawAddress: string, event: AbuseEvent): boolean {
    if (!this.options.enabled) return false;
    if (this.isAllowed(rawAddress)) return false;
    const address = addressGroup(rawAddress);
    const now = this.now();
    this.sweep(now);
    if (this.banned(address, now)) return true;
    this.options.shared?.report(address, event);
    const failures = this.records.hit(address, now);
    if (failures === null) return false;
    const until = now + this.options.banMs;
    this.bans.set(address, until);
    dropOldest(this.bans, this.maxEntries);
    this.options.logger.warn({ address, failures, event, until: new Date(until).toISOString() }, 'address banned');
    if (!this.options.shared?.decidesEveryBan) events.ban.publish({ address, until, adopted: false } satisfies BanEvent);
    return true;
  }

  /**
   * Whether `group` is banned at `now`. By its own end time, not by presence: bans adopted
   * from other nodes arrive out of end-time order, so sweep() may not have lifted them yet.
   */
  private banned(group: string, now: number): boolean {
    return (this.bans.get(group) ?? 0) > now;
  }

  /**
   * A ban the shared ledger decided: this process enforces it too, until `until`. An
   * address banned here already keeps the later end, with no second log line; it is
   * counted here only when this process's event reached the threshold (`reachedHere`).
   */
  adoptBan(group: string, until: number, origin: BanOrigin): void {
    const now = this.now();
    if (!this.options.enabled || this.isAllowed(group) || until <= now) return;
    const held = this.bans.get(group) ?? 0;
    if (held < until) {
      this.bans.delete(group);
      this.bans.set(group, until);
      dropOldest(this.bans, this.maxEntries);
    }
    const fresh = held <= now;
    const counted = origin.reachedHere && (fresh || this.options.shared?.decidesEveryBan === true);
    if (fresh) this.options.logger.warn({ address: group, until: new Date(until).toISOString() }, `address banned (by ${origin.by})`);
    if (fresh || counted) events.ban.publish({ address: group, until, adopted: !counted } satisfies BanEvent);
  }

  /** Events of `group` still inside the observation window (0 when the defender is disabled). */
  private recentFailures(group: string): number {
    if (!this.options.enabled) return 0;
    const now = this.now();
    this.sweep(now);
    return this.records.recent(group, now);
  }

  /** Lifts expired bans and forgets records whose latest event left the window. */
  private sweep(now: number): void {
    for (const [address, until] of this.bans) {
      if (until > now) break;
      this.bans.delete(address);
      this.options.logger.info({ address }, 'ban lifted');
    }
    this.records.sweep(now);
  }
}
