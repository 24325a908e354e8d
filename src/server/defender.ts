/**
 * The defender (defender.*; after SFTPGo's defender): scores abusive events -- failed
 * logins, connections closed for too many failures -- per client address across
 * sessions, and bans an address that reaches `threshold` within `observation_time` for
 * `ban_time`. Bans are per address, never per user name, so nobody can lock a user out
 * by failing logins in their name. Addresses on the allow list are never banned.
 *
 * Memory is bounded: failure records and bans live in maps kept in time order (oldest
 * first), expired entries are swept from the front on every call, and past the caps
 * the oldest entries are dropped.
 */
import { BlockList } from 'node:net';
import type { Logger } from 'pino';
import { canonicalAddress, parseAddressRange } from '../protocol/address.js';

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
  /** Most addresses with a failure record, and most bans, kept at once. */
  maxEntries?: number;
  now?: () => number;
}

interface FailureRecord {
  /** Times (ms) of the events still inside the observation window, oldest first. */
  times: number[];
}

export class Defender {
  /** Address -> recent events; in order of the latest event, oldest first. */
  private readonly records = new Map<string, FailureRecord>();
  /** Address -> end of its ban (ms); in order of ban, so also of expiry (ban_time is fixed). */
  private readonly bans = new Map<string, number>();
  private readonly allowList = new BlockList();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: DefenderOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    for (const entry of options.allow) {
      const range = parseAddressRange(entry);
      if (range) this.allowList.addSubnet(range.address, range.prefix, range.family);
    }
  }

  get bannedCount(): number {
    return this.bans.size;
  }

  /** True while `address` is banned (expired bans are lifted here, with their log line). */
  isBanned(rawAddress: string): boolean {
    if (!this.options.enabled) return false;
    this.sweep(this.now());
    return this.bans.has(canonicalAddress(rawAddress));
  }

  /**
   * Scores one abusive event for `address`; bans it when the score reaches the
   * threshold. Returns true when the address is banned (now or already).
   */
  record(rawAddress: string, event: AbuseEvent): boolean {
    if (!this.options.enabled) return false;
    const address = canonicalAddress(rawAddress);
    const now = this.now();
    this.sweep(now);
    if (this.bans.has(address)) return true;
    if (this.isAllowed(address)) return false;
    const record = this.records.get(address) ?? { times: [] };
    record.times = record.times.filter((time) => now - time < this.options.observationMs);
    record.times.push(now);
    this.records.delete(address);
    if (record.times.length < this.options.threshold) {
      this.records.set(address, record);
      this.dropOldest(this.records);
      return false;
    }
    const until = now + this.options.banMs;
    this.bans.set(address, until);
    this.dropOldest(this.bans);
    this.options.logger.warn({ address, failures: record.times.length, event, until: new Date(until).toISOString() }, 'address banned');
    return true;
  }

  private isAllowed(address: string): boolean {
    return this.allowList.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }

  /** Lifts expired bans and forgets records whose latest event left the window. */
  private sweep(now: number): void {
    for (const [address, until] of this.bans) {
      if (until > now) break;
      this.bans.delete(address);
      this.options.logger.info({ address }, 'ban lifted');
    }
    for (const [address, record] of this.records) {
      if (now - record.times[record.times.length - 1]! < this.options.observationMs) break;
      this.records.delete(address);
    }
  }

  private dropOldest(map: Map<string, unknown>): void {
    if (map.size > this.maxEntries) map.delete(map.keys().next().value!);
  }
}
