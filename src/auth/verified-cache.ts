/**
 * A short-lived memory of recently verified passwords, so a client that logs in again
 * and again (scripts, monitoring, benchmarks) does not pay for scrypt every time.
 *
 * Keys are HMAC-SHA256 under a per-process random secret of (user, password, stored
 * hash): the table never holds a password or anything that can be tested offline, a
 * password change (a new hash) misses, entries expire after `ttlMs`, and the table is
 * bounded (oldest entries go first). Only successes are remembered.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class VerifiedPasswordCache {
  private readonly secret = randomBytes(32);
  /** key -> expiry time; Map keeps insertion order, which makes eviction of the oldest cheap. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries = 1024,
    private readonly ttlMs = 60_000,
  ) {}

  private key(user: string, password: string, storedHash: string): string {
    // JSON keeps the fields apart whatever bytes they contain.
    return createHmac('sha256', this.secret).update(JSON.stringify([user, password, storedHash])).digest('base64');
  }

  has(user: string, password: string, storedHash: string, now = Date.now()): boolean {
    const key = this.key(user, password, storedHash);
    const expiry = this.entries.get(key);
    if (expiry === undefined) return false;
    if (expiry <= now) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  remember(user: string, password: string, storedHash: string, now = Date.now()): void {
    const key = this.key(user, password, storedHash);
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
