/**
 * The users file (TOML):
 *
 *   [users.alice]
 *   password = "scrypt$16384$8$1$<salt>$<hash>"   # from `ferry user add`, never clear text
 *   home = "/srv/ftp/alice"                         # optional; defaults to the server root (a key prefix with S3 storage)
 *   permissions = ["list", "read", "write", "delete", "rename", "mkdir"]  # optional; default all
 *
 * `read_only = true` is shorthand for permissions = ["list", "read"]; `tls = "required"`
 * (off | optional | login | required) overrides the server's tls.mode for this user, and
 * `charset = "gbk"` the server's charset (file names on the wire) once the user has logged in.
 * `quota_bytes`, `quota_files`, `upload_rate`, `download_rate` (bytes/s) and `max_sessions`
 * override the site's [user_defaults] (0 = no limit).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { charsetName, TLS_MODES, type TlsMode } from '../config/schema.js';
import { isPasswordHash } from './password.js';
import { PERMISSIONS, READ_ONLY, type Permission } from './permissions.js';
import { USER_LIMIT_ENTRIES, type UserLimits } from './user-limits.js';

const limit = z.number().int().min(0).optional();

/** What a user name may be (also what `ferry user` accepts). */
export const USER_NAME = /^[^\s:/\\]{1,64}$/;
export const USER_NAME_RULE = 'user names are 1-64 characters without spaces, ":" or slashes';

const userSchema = z.strictObject({
  password: z.string().refine(isPasswordHash, { message: 'expected a scrypt hash made by `ferry user add`' }),
  home: z.string().min(1).optional(),
  read_only: z.boolean().optional(),
  permissions: z.array(z.enum(PERMISSIONS)).optional(),
  /** Overrides the server's tls.mode for this user. */
  tls: z.enum(TLS_MODES).optional(),
  /** Overrides the server's charset for this user, after login. */
  charset: charsetName.optional(),
  /** Quotas and limits (see user-limits.ts); 0 = no limit, absent = the site's [user_defaults]. */
  quota_bytes: limit,
  quota_files: limit,
  upload_rate: limit,
  download_rate: limit,
  max_sessions: limit,
});

const usersFileSchema = z.strictObject({
  users: z.record(z.string().regex(USER_NAME, USER_NAME_RULE), userSchema).default({}),
});

export interface UserRecord {
  passwordHash: string;
  /** Absolute host path, or undefined for the server root. */
  home?: string;
  /** The home as the file gives it: with S3 storage a key prefix, not a path. */
  homeAsWritten?: string;
  permissions?: ReadonlySet<Permission>;
  tls?: TlsMode;
  charset?: string;
  /** The user's own quotas and limits; the others come from [user_defaults]. */
  limits?: Partial<UserLimits>;
}

/** A users file's entries as written in it (before paths are resolved). */
export type RawUsers = z.output<typeof usersFileSchema>['users'];
/** One entry as written: password hash, home, read_only, permissions, tls, charset, limits. */
export type RawUser = RawUsers[string];

function ownLimits(raw: RawUser): Partial<UserLimits> {
  const limits: Partial<Record<keyof UserLimits, number>> = {};
  for (const [field, key] of USER_LIMIT_ENTRIES) {
    if (raw[key] !== undefined) limits[field] = raw[key];
  }
  return limits;
}

function toRecords(users: RawUsers, base: string): Map<string, UserRecord> {
  const records = new Map<string, UserRecord>();
  for (const [name, raw] of Object.entries(users)) {
    records.set(name, {
      passwordHash: raw.password,
      home: raw.home === undefined ? undefined : resolve(base, raw.home),
      homeAsWritten: raw.home,
      permissions: raw.permissions ? new Set(raw.permissions) : raw.read_only ? READ_ONLY : undefined,
      tls: raw.tls,
      charset: raw.charset,
      limits: ownLimits(raw),
    });
  }
  return records;
}

/** Parses and validates a users file's text (`path` names it in errors). Throws ConfigError. */
export function parseUsersText(text: string, path: string): RawUsers {
  let tree: unknown;
  try {
    tree = parseToml(text);
  } catch (error) {
    throw new ConfigError(`users file ${path}: TOML syntax error: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = usersFileSchema.safeParse(tree);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [])].join('.');
    throw new ConfigError(`users file ${path}: ${key}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`, key);
  }
  return result.data.users;
}

/** Reads and validates a users file; a missing file is an empty one. Throws ConfigError. */
export function readUsersFile(path: string): Map<string, UserRecord> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read users file ${path}: ${(error as Error).message}`);
  }
  return toRecords(parseUsersText(text, path), dirname(resolve(path)));
}

/** What a re-read of a users file changed, by user name (sorted). */
export interface UsersFileChange {
  users: number;
  added: string[];
  removed: string[];
  changed: string[];
}

function changeBetween(before: ReadonlyMap<string, UserRecord>, after: ReadonlyMap<string, UserRecord>): UsersFileChange {
  const names = (map: ReadonlyMap<string, UserRecord>, keep: (name: string) => boolean) => [...map.keys()].filter(keep).sort();
  return {
    users: after.size,
    added: names(after, (name) => !before.has(name)),
    removed: names(before, (name) => !after.has(name)),
    changed: names(after, (name) => before.has(name) && !isDeepStrictEqual(before.get(name), after.get(name))),
  };
}

/**
 * Keeps a users file's records fresh: re-read when its modification time changes, so
 * `ferry user add` takes effect without a restart. A broken edit keeps the last good
 * version (and the caller logs the error); a good one is reported with what it changed.
 */
export class UsersFileWatcher {
  private records: Map<string, UserRecord>;
  private mtimeMs: number;

  constructor(
    private readonly path: string,
    private readonly onReloadError: (error: Error) => void,
    private readonly onReloaded: (change: UsersFileChange) => void = () => undefined,
  ) {
    this.records = readUsersFile(path);
    this.mtimeMs = this.currentMtime();
  }

  private currentMtime(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return 0;
    }
  }

  lookup(name: string): UserRecord | undefined {
    this.refresh();
    return this.records.get(name);
  }

  /** Re-reads the file if its modification time changed; a broken file keeps the current records. */
  private refresh(): void {
    const mtime = this.currentMtime();
    if (mtime === this.mtimeMs) return;
    this.mtimeMs = mtime;
    let fresh: Map<string, UserRecord>;
    try {
      fresh = readUsersFile(this.path);
    } catch (error) {
      this.onReloadError(error as Error);
      return;
    }
    const change = changeBetween(this.records, fresh);
    this.records = fresh;
    this.onReloaded(change);
  }
}
