/**
 * `ferry user add|passwd|set|remove|list`: edits a users file. Passwords are stored as
 * scrypt hashes; an edit keeps every setting and every other user it does not change.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ANONYMOUS_NAMES } from '../auth/file-authenticator.js';
import { hashPassword } from '../auth/password.js';
import { USER_NAME, USER_NAME_RULE, type RawUser } from '../auth/users-file.js';
import { editUsersFile, readUserEntries } from '../auth/users-file-edit.js';
import { promptHidden } from './prompt.js';
import { UsageError } from './remote.js';
import { applySettings, changesSomething, listLine, settingsChange, type AppliedChange, type SettingFlags, type SettingsChange } from './user-settings.js';

export interface UsersFileFlags {
  users: string;
}

/** Reads the password: the first line of stdin when piped, a hidden prompt on a terminal. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new Error('passwords do not match');
  return first;
}

async function newPasswordHash(): Promise<string> {
  const password = await readPassword();
  if (password.length === 0) throw new Error('empty password');
  return hashPassword(password);
}

function checkName(name: string): void {
  if (!USER_NAME.test(name)) throw new UsageError(USER_NAME_RULE);
}

function noSuchUser(name: string, file: string): Error {
  return new Error(`no user ${name} in ${file}`);
}

/** Fails before a password is asked for when the user is not there to change. */
async function requireUser(name: string, file: string): Promise<void> {
  if (!(await readUserEntries(file))?.[name]) throw noSuchUser(name, file);
}

function warnIfAnonymousName(name: string): void {
  if (!ANONYMOUS_NAMES.has(name.toLowerCase())) return;
  process.stderr.write(
    `ferry: warning: "${name}" is an anonymous login name: while [anonymous] is enabled in the server config, ` +
      `USER ${name} logs in anonymously (any password, read-only) and never as this user\n`,
  );
}

/** Creates the home folder, as a server with local storage needs it there. */
function makeHome(change: SettingsChange): void {
  if (change.set.home !== undefined) mkdirSync(change.set.home, { recursive: true });
}

/** "tls, quota_bytes set; home removed; permissions kept" (the parts that apply). */
function describeChange(applied: AppliedChange, passwordReplaced: boolean): string {
  const parts = [passwordReplaced ? 'password replaced' : ''];
  for (const [keys, what] of [[applied.set, 'set'], [applied.removed, 'removed'], [applied.kept, 'kept']] as const) {
    if (keys.length > 0) parts.push(`${keys.join(', ')} ${what}`);
  }
  return parts.filter((part) => part !== '').join('; ');
}

/** Adds a user, or replaces an existing user's password (and the settings the flags give). */
export async function addUser(name: string, flags: UsersFileFlags & SettingFlags): Promise<void> {
  checkName(name);
  const change = settingsChange(flags);
  const file = resolve(flags.users);
  const password = await newPasswordHash();
  makeHome(change);
  const { existed, applied } = await editUsersFile(file, (users) => {
    const existed = users[name] !== undefined;
    const entry: RawUser = { ...users[name], password };
    users[name] = entry;
    return { existed, applied: applySettings(entry, change) };
  });
  process.stdout.write(existed ? `user ${name} updated in ${file}: ${describeChange(applied, true)}\n` : `user ${name} added to ${file}\n`);
  warnIfAnonymousName(name);
}

/** Replaces an existing user's password, nothing else. */
export async function changePassword(name: string, flags: UsersFileFlags): Promise<void> {
  const file = resolve(flags.users);
  await requireUser(name, file);
  const password = await newPasswordHash();
  await editUsersFile(file, (users) => {
    const entry = users[name];
    if (!entry) throw noSuchUser(name, file);
    entry.password = password;
  });
  process.stdout.write(`password of ${name} replaced in ${file}\n`);
  warnIfAnonymousName(name);
}

/** Changes an existing user's settings, never the password. */
export async function setUser(name: string, flags: UsersFileFlags & SettingFlags): Promise<void> {
  const change = settingsChange(flags);
  if (!changesSomething(change)) throw new UsageError('nothing to change: give a setting (--home, --tls, --quota-bytes, ...) or --unset');
  const file = resolve(flags.users);
  await requireUser(name, file);
  makeHome(change);
  const applied = await editUsersFile(file, (users) => {
    const entry = users[name];
    if (!entry) throw noSuchUser(name, file);
    return applySettings(entry, change);
  });
  process.stdout.write(`user ${name} updated in ${file}: ${describeChange(applied, false)}\n`);
  warnIfAnonymousName(name);
}

export async function removeUser(name: string, flags: UsersFileFlags): Promise<void> {
  const file = resolve(flags.users);
  await requireUser(name, file);
  await editUsersFile(file, (users) => {
    if (!users[name]) throw noSuchUser(name, file);
    delete users[name];
  });
  process.stdout.write(`user ${name} removed from ${file}\n`);
}

/** One line per user, by name: the name, then its settings as key=value (never the hash). */
export async function listUsers(flags: UsersFileFlags): Promise<void> {
  const file = resolve(flags.users);
  const users = await readUserEntries(file);
  if (users === undefined) throw new Error(`no users file ${file}`);
  const names = Object.keys(users).sort();
  process.stdout.write(names.map((name) => listLine(name, users[name]!) + '\n').join(''));
}
