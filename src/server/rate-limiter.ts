/**
 * New connections per second per address (limits.connection_rate, connection_burst):
 * one token bucket per address; an IPv6 client's bucket is its /64's (addressGroup), so
 * rotating through a prefix buys no fresh buckets. Memory stays bounded: a bucket that
 * has refilled is the same as no bucket and is pruned, and past `maxAddresses` the least
 * recently seen address is forgotten (it gets a full bucket again, never a refusal).
 */
import { addressGroup } from '../protocol/address.js';

interface Bucket {
  tokens: number;
  /** Milliseconds (clock time) of the last refill. */
  updated: number;
}

export interface RateLimiterOptions {
  /** Tokens per second; 0 turns the limiter off. */
  rate: number;
  /** Bucket size: connections an address may open at once. */
  burst: number;
  /** Most addresses tracked at once. */
  maxAddresses?: number;
  now?: () => number;
}

export class ConnectionRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    this.maxAddresses = options.maxAddresses ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for a new connection from `address`; false when its bucket is empty. */
  take(rawAddress: string): boolean {
    const { rate, burst } = this.options;
    if (rate <= 0) return true;
    const address = addressGroup(rawAddress);
    const now = this.now();
    this.pruneFull(now);
    const bucket = this.buckets.get(address) ?? { tokens: burst, updated: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updated) / 1000) * rate);
    bucket.updated = now;
    // Re-inserting keeps the map in last-seen order, oldest first, for pruning.
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled since they were last used (oldest first, so cheap). */
  private pruneFull(now: number): void {
    const { rate, burst } = this.options;
    const refillMs = (burst / rate) * 1000;
    for (const [address, bucket] of this.buckets) {
      if (now - bucket.updated < refillMs) break;
      this.buckets.delete(address);
    }
  }
}
