/**
 * What one user may use: quotas (bytes and files stored under their home) and speed
 * and session limits. A user's own values (users file) win over the site's
 * `[user_defaults]`; 0 means no limit.
 */
import type { FerryConfig } from '../config/schema.js';

export interface UserLimits {
  /** Most bytes stored under the user's home (552 when an upload would pass it). */
  readonly quotaBytes: number;
  /** Most files stored under the user's home. */
  readonly quotaFiles: number;
  /** Bytes per second for all of the user's uploads together. */
  readonly uploadRate: number;
  /** Bytes per second for all of the user's downloads together. */
  readonly downloadRate: number;
  /** Most sessions logged in as this user at once. */
  readonly maxSessions: number;
}

/** The users-file and `[user_defaults]` key of each limit (the same names in both). */
export const USER_LIMIT_KEYS = {
  quotaBytes: 'quota_bytes',
  quotaFiles: 'quota_files',
  uploadRate: 'upload_rate',
  downloadRate: 'download_rate',
  maxSessions: 'max_sessions',
} as const satisfies Record<keyof UserLimits, string>;

/** Each limit's field and key, for code that goes through all of them. */
export const USER_LIMIT_ENTRIES = Object.entries(USER_LIMIT_KEYS) as [keyof UserLimits, (typeof USER_LIMIT_KEYS)[keyof UserLimits]][];

/** The limits in force for a user: their own values over the site's defaults. */
export function effectiveLimits(own: Partial<UserLimits> | undefined, config: Pick<FerryConfig, 'user_defaults'>): UserLimits {
  const defaults = config.user_defaults;
  const pick = (key: keyof UserLimits): number => own?.[key] ?? defaults[USER_LIMIT_KEYS[key]];
  return {
    quotaBytes: pick('quotaBytes'),
    quotaFiles: pick('quotaFiles'),
    uploadRate: pick('uploadRate'),
    downloadRate: pick('downloadRate'),
    maxSessions: pick('maxSessions'),
  };
}
