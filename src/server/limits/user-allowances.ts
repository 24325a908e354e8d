/**
 * What a logged-in user is allowed, enforced across all their sessions on this server:
 * at most `max_sessions` at once (421 past it), uploads and downloads each sharing one
 * rate (`upload_rate`, `download_rate`, bytes/s), and storage within `quota_bytes` and
 * `quota_files` under their home. Limits come from the users file over the site's
 * [user_defaults] (effectiveLimits), read at login. With `[cluster] redis` the session
 * count is the cluster's (RedisSessionRegistry), after this server's own.
 */
import type { Logger } from 'pino';
import type { UserContext } from '../../auth/authenticator.js';
import { effectiveLimits, type UserLimits } from '../../auth/user-limits.js';
import type { FerryConfig } from '../../config/schema.js';
import type { RedisSessionRegistry } from '../cluster/redis-sessions.js';
import type { StorageBackend } from '../../storage/backend.js';
import { TokenBucket } from '../../util/token-bucket.js';
import { QuotaStorage } from './quota-storage.js';
import { SharedByKey } from './shared-by-key.js';
import { UsageLedger } from './usage-ledger.js';
import { scanUsage, type Usage } from './usage-scan.js';

/** One session's share of its user's allowance, given back at logout or close. */
export interface Admission {
  readonly limits: UserLimits;
  /** The user's storage, with the quota enforced when there is one. */
  readonly storage: StorageBackend;
  /** Shared by all of this user's file uploads / downloads; null: no limit. */
  readonly uploadRate: TokenBucket | null;
  readonly downloadRate: TokenBucket | null;
  /**
   * A config reload: the site's new [user_defaults] apply to this session's next transfer
   * (rates and quotas; a session already admitted stays, whatever max_sessions says now).
   */
  refresh(site: AdmissionRequest['site']): void;
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
  private readonly sessions = new SharedByKey<null>();
  private readonly rates = new SharedByKey<TokenBucket>();
  /** Per home (users sharing one share its count), while someone with a quota there is logged in: the next login after counts afresh. */
  private readonly ledgers = new SharedByKey<UsageLedger>();

  /** The session counts shared with this node's other workers and with the other nodes ([cluster] redis), when there are any. */
  constructor(private readonly shared: { workers?: SharedSessionCount; cluster?: RedisSessionRegistry | null } = {}) {}

  /** The session's admission, or null when the user has all the sessions they may have. */
  async admit({ site, user, storage, logger }: AdmissionRequest): Promise<Admission | null> {
    const limits = effectiveLimits(user.limits, site.config);
    const userKey = keyOf(site.name, user.name);
    if (limits.maxSessions > 0 && this.sessions.holders(userKey) >= limits.maxSessions) return null;
    // Held before any shared count is asked, so two logins here at once cannot both pass the local count.
    const held: (() => void)[] = [this.sessions.hold(userKey, () => null).release];
    const refused = () => {
      for (const release of held.splice(0)) release();
      return null;
    };
    // Only a limited login asks the others (a round trip each): sessions that logged in
    // unlimited are not counted there if a limit comes later.
    if (limits.maxSessions > 0 && this.shared.workers) {
      const place = await this.shared.workers.hold(userKey, limits.maxSessions);
      if (!place) return refused();
      held.push(place);
    }
    if (limits.maxSessions > 0 && this.shared.cluster) {
      const slot = await this.shared.cluster.acquire({ site: site.name, user: user.name }, limits.maxSessions);
      if (!slot) return refused();
      held.push(slot);
    }
    return new HeldAdmission(this, { site, user, storage, logger }, held);
  }

  /** The rate shared by `user`'s transfers in one direction, held until the release is called. */
  holdRate(site: string, user: string, direction: 'upload' | 'download', bytesPerSecond: number): { value: TokenBucket; release: () => void } {
    const bucket = this.rates.hold(keyOf(site, user, direction), () => new TokenBucket(bytesPerSecond));
    // The newest setting wins, for sessions already running too (a changed users file or reload).
    if (bucket.value.rate !== bytesPerSecond) bucket.value.setRate(bytesPerSecond);
    return bucket;
  }

  /** The count of what `home` holds, shared by everyone with a quota there, held until the release is called. */
  holdLedger(site: string, home: string, count: () => Promise<Usage>): { value: UsageLedger; release: () => void } {
    return this.ledgers.hold(keyOf(site, home), () => new UsageLedger(count));
  }
}

type Held = { value: TokenBucket; release: () => void } | null;

/** An admitted session's limits, and what it holds of the shared ones; kept current by refresh(). */
class HeldAdmission implements Admission {
  /** Set by refresh(), which the constructor runs. */
  limits!: UserLimits;
  storage: StorageBackend;
  private upload: Held = null;
  private download: Held = null;
  private quota: QuotaStorage | null = null;

  constructor(
    private readonly allowances: UserAllowances,
    private readonly request: AdmissionRequest,
    /** Releases of the session slots (this node's, the cluster's) and the quota ledger. */
    private readonly held: (() => void)[],
  ) {
    this.storage = request.storage;
    this.refresh(request.site);
  }

  get uploadRate(): TokenBucket | null {
    return this.upload?.value ?? null;
  }

  get downloadRate(): TokenBucket | null {
    return this.download?.value ?? null;
  }

  refresh(site: AdmissionRequest['site']): void {
    const { user, storage, logger } = this.request;
    this.limits = effectiveLimits(user.limits, site.config);
    this.upload = this.rate(this.upload, 'upload', this.limits.uploadRate, user.limits?.uploadRate !== undefined);
    this.download = this.rate(this.download, 'download', this.limits.downloadRate, user.limits?.downloadRate !== undefined);
    const quota = { bytes: this.limits.quotaBytes, files: this.limits.quotaFiles };
    if (this.quota) this.quota.setQuota(quota);
    else if (quota.bytes > 0 || quota.files > 0) {
      const ledger = this.allowances.holdLedger(site.name, user.home, () =>
        scanUsage(storage, (path, error) => logger.warn({ user: user.name, path, err: error.message }, 'quota: cannot count a directory; it counts as empty')),
      );
      this.held.push(ledger.release);
      this.quota = new QuotaStorage(storage, ledger.value, quota);
      this.storage = this.quota;
    }
  }

  /**
   * `ownEntry`: the rate is the user's own (from its entry at login), not `[user_defaults]`.
   * The bucket is the user's, shared by its sessions: a login sets it (the newest entry
   * wins), a reload's new defaults too; a session's refresh must not put back the rate its
   * own login had, over a newer login's.
   */
  private rate(current: Held, direction: 'upload' | 'download', bytesPerSecond: number, ownEntry: boolean): Held {
    if (bytesPerSecond <= 0) {
      current?.release();
      return null;
    }
    if (current) {
      if (!ownEntry && current.value.rate !== bytesPerSecond) current.value.setRate(bytesPerSecond);
      return current;
    }
    return this.allowances.holdRate(this.request.site.name, this.request.user.name, direction, bytesPerSecond);
  }

  release(): void {
    this.upload?.release();
    this.download?.release();
    this.upload = this.download = null;
    for (const release of this.held.splice(0)) release();
  }
}
