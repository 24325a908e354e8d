/**
 * A user's settings on the `ferry user add|set` command line: the flags checked and
 * turned into users-file keys to set and to remove, applied to one entry, and an entry
 * shown as one `ferry user list` line.
 */
import { resolve } from 'node:path';
import { PERMISSIONS, type Permission } from '../auth/permissions.js';
import { USER_LIMIT_ENTRIES, type UserLimits } from '../auth/user-limits.js';
import type { RawUser } from '../auth/users-file.js';
import { charsetName, type TlsMode } from '../config/schema.js';
import { UsageError } from './remote.js';
import { parseByteCount } from './units.js';

/** Everything in an entry but the password, in the order `list` shows them. */
export const SETTINGS = ['home', 'read_only', 'permissions', 'tls', 'charset', 'quota_bytes', 'quota_files', 'upload_rate', 'download_rate', 'max_sessions'] as const;
export type Setting = (typeof SETTINGS)[number];
type Settings = Omit<RawUser, 'password'>;

/** The setting flags as commander gives them (strings, as typed). */
export interface SettingFlags {
  home?: string;
  readOnly?: boolean;
  permissions?: string;
  tls?: TlsMode;
  charset?: string;
  quotaBytes?: string;
  quotaFiles?: string;
  uploadRate?: string;
  downloadRate?: string;
  maxSessions?: string;
  unset?: string[];
}

export interface SettingsChange {
  set: Settings;
  /** Keys to remove, so the server's default (or [user_defaults]) applies again. */
  unset: Setting[];
}

/** read_only and permissions are two spellings of one setting: writing or removing one drops the other. */
const SAME_SETTING: Partial<Record<Setting, Setting>> = { read_only: 'permissions', permissions: 'read_only' };

function wholeNumber(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${flag}: not a whole number (0 or more): ${text}`);
  return value;
}

const bytesPerSecond = (text: string, flag: string) => parseByteCount(text, flag, { unit: 'bytes per second', min: 0 });

/** How each limit flag's value is read: sizes and rates take K/M/G units, counts are whole numbers. */
const LIMIT_PARSERS: Record<keyof UserLimits, (text: string, flag: string) => number> = {
  quotaBytes: (text, flag) => parseByteCount(text, flag, { unit: 'bytes', min: 0 }),
  quotaFiles: wholeNumber,
  uploadRate: bytesPerSecond,
  downloadRate: bytesPerSecond,
  maxSessions: wholeNumber,
};

function permissionList(text: string): Permission[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(PERMISSIONS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--permissions: expected a comma list of ${PERMISSIONS.join(',')}${unknown.length ? `, not ${unknown.join(',')}` : ''}`);
  }
  return [...new Set(names as Permission[])];
}

function unsetList(values: readonly string[]): Setting[] {
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim().replace(/-/g, '_'));
  const unknown = names.filter((name) => !(SETTINGS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw new UsageError(`--unset: expected a comma list of ${SETTINGS.join(',')}${unknown.length ? `, not ${unknown.join(',')}` : ''}`);
  return [...new Set(names as Setting[])];
}

/** Checks the flags and turns them into users-file keys. Throws UsageError naming the flag. */
export function settingsChange(flags: SettingFlags): SettingsChange {
  if (flags.readOnly && flags.permissions !== undefined) throw new UsageError('choose one of --read-only and --permissions');
  const set: Settings = {};
  if (flags.home !== undefined) {
    if (flags.home.trim() === '') throw new UsageError('--home: empty folder name');
    set.home = resolve(flags.home);
  }
  if (flags.readOnly) set.read_only = true;
  if (flags.permissions !== undefined) set.permissions = permissionList(flags.permissions);
  if (flags.tls !== undefined) set.tls = flags.tls;
  if (flags.charset !== undefined) {
    const charset = charsetName.safeParse(flags.charset);
    if (!charset.success) throw new UsageError(`--charset: ${charset.error.issues[0]!.message}, not ${flags.charset}`);
    set.charset = charset.data;
  }
  for (const [field, key] of USER_LIMIT_ENTRIES) {
    const text = flags[field];
    // The flag is the users-file key (--quota-bytes for quota_bytes).
    if (text !== undefined) set[key] = LIMIT_PARSERS[field](text, `--${key.replace(/_/g, '-')}`);
  }
  const unset = flags.unset === undefined ? [] : unsetList(flags.unset);
  const both = unset.filter((key) => key in set || (SAME_SETTING[key] ?? key) in set);
  if (both.length > 0) throw new UsageError(`--unset ${both.join(',')}: also given a value on the same command line`);
  return { set, unset };
}

export function changesSomething(change: SettingsChange): boolean {
  return Object.keys(change.set).length > 0 || change.unset.length > 0;
}

/** What applying a change did to an entry, key by key. */
export interface AppliedChange {
  set: Setting[];
  removed: Setting[];
  /** Settings the entry had and still has, untouched. */
  kept: Setting[];
}

/** Applies `change` to `entry` in place. */
export function applySettings(entry: RawUser, change: SettingsChange): AppliedChange {
  const before = new Set(SETTINGS.filter((key) => entry[key] !== undefined));
  const set = SETTINGS.filter((key) => change.set[key] !== undefined);
  const remove = new Set<Setting>();
  for (const key of [...change.unset, ...set]) {
    const twin = SAME_SETTING[key];
    if (twin) remove.add(twin);
  }
  for (const key of change.unset) remove.add(key);
  for (const key of remove) delete entry[key];
  Object.assign(entry, change.set);
  // Re-inserted in SETTINGS order, so the file reads the same however it was edited.
  for (const key of SETTINGS) {
    if (entry[key] === undefined) continue;
    const value = entry[key];
    delete entry[key];
    Object.assign(entry, { [key]: value });
  }
  return {
    set,
    removed: SETTINGS.filter((key) => remove.has(key) && before.has(key) && !set.includes(key)),
    kept: SETTINGS.filter((key) => before.has(key) && !remove.has(key) && !set.includes(key)),
  };
}

function shown(value: unknown): string {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  // Quoted only when a value would not stay one word for grep, cut or awk.
  return /^[^\s"'=]+$/.test(text) ? text : JSON.stringify(text);
}

/** `alice home=/srv/ftp/alice permissions=list,read tls=required quota_bytes=1000000`: never the password. */
export function listLine(name: string, entry: RawUser): string {
  return [name, ...SETTINGS.filter((key) => entry[key] !== undefined).map((key) => `${key}=${shown(entry[key])}`)].join(' ');
}
