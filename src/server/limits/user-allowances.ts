/**
 * What a logged-in user is allowed, enforced across all their sessions on this server:
 * at most `max_sessions` at once (421 past it), uploads and downloads each sharing one
 * rate (`upload_rate`, `download_rate`, bytes/s), and storage within `quota_bytes` and
 * `quota_files` under their home. Limits come from the users file over the site's
 * [user_defaults] (effectiveLimits), read at login.
 */
import type { Logger } from 'pino';
import type { UserContext } from '../../auth/authenticator.js';
import { effectiveLimits, type UserLimits } from '../../auth/user-limits.js';
import type { FerryConfig } from '../../config/schema.js';
import type { StorageBackend } from '../../storage/backend.js';
import { TokenBucket } from '../../util/token-bucket.js';
import { QuotaStorage } from './quota-storage.js';
import { SharedByKey } from './shared-by-key.js';
import { UsageLedger } from './usage-ledger.js';
import { scanUsage } from './usage-scan.js';

/** One session's share of its user's allowance, given back at logout or close. */
export interface Admission {
  readonly limits: UserLimits;
  /** The user's storage, with the quota enforced when there is one. */
  readonly storage: StorageBackend;
  /** Shared by all of this user's file uploads / downloads; null: no limit. */
  readonly uploadRate: TokenBucket | null;
  readonly downloadRate: TokenBucket | null;
  release(): void;
}

export interface AdmissionRequest {
  site: { name: string; config: Pick<FerryConfig, 'user_defaults'> };
  user: UserContext;
  storage: StorageBackend;
  logger: Logger;
}

const keyOf = (...parts: string[]) => parts.join('\0');

/** Sessions per user counted beyond this process too (the other workers', through the primary). */
export interface SharedSessionCount {
  /** Takes one of `key`'s places, or null when `max` (0: no limit) are taken everywhere; the release gives it back. */
  hold(key: string, max: number): Promise<(() => void) | null>;
}

export class UserAllowances {
  constructor(private readonly shared?: SharedSessionCount) {}

  private readonly sessions = new SharedByKey<null>();
  private readonly rates = new SharedByKey<TokenBucket>();
  /** Per home (users sharing one share its count), while someone with a quota there is logged in: the next login after counts afresh. */
  private readonly ledgers = new SharedByKey<UsageLedger>();

  /** The session's admission, or null when the user has all the sessions they may have. */
  async admit({ site, user, storage, logger }: AdmissionRequest): Promise<Admission | null> {
    const limits = effectiveLimits(user.limits, site.config);
    const userKey = keyOf(site.name, user.name);
    if (limits.maxSessions > 0 && this.sessions.holders(userKey) >= limits.maxSessions) return null;
    // Only a limited login asks (a round trip): sessions that logged in unlimited are not counted there if a limit comes later.
    const sharedPlace = this.shared && limits.maxSessions > 0 ? await this.shared.hold(userKey, limits.maxSessions) : () => undefined;
    if (!sharedPlace) return null;
    const held: (() => void)[] = [sharedPlace, this.sessions.hold(userKey, () => null).release];
    const rate = (direction: string, bytesPerSecond: number): TokenBucket | null => {
      if (bytesPerSecond <= 0) return null;
      const bucket = this.rates.hold(keyOf(userKey, direction), () => new TokenBucket(bytesPerSecond));
      held.push(bucket.release);
      // The newest login's limit wins, for sessions already running too (a changed users file).
      if (bucket.value.rate !== bytesPerSecond) bucket.value.setRate(bytesPerSecond);
      return bucket.value;
    };
    const uploadRate = rate('upload', limits.uploadRate);
    const downloadRate = rate('download', limits.downloadRate);
    let limitedStorage = storage;
    if (limits.quotaBytes > 0 || limits.quotaFiles > 0) {
      const ledger = this.ledgers.hold(keyOf(site.name, user.home), () =>
        new UsageLedger(() => scanUsage(storage, (path, error) => logger.warn({ user: user.name, path, err: error.message }, 'quota: cannot count a directory; it counts as empty'))),
      );
      held.push(ledger.release);
      limitedStorage = new QuotaStorage(storage, ledger.value, { bytes: limits.quotaBytes, files: limits.quotaFiles });
    }
    return {
      limits,
      storage: limitedStorage,
      uploadRate,
      downloadRate,
      release: () => {
        for (const release of held.splice(0)) release();
      },
    };
  }
}
