/**
 * A temporary local account for a server that only knows system users (vsftpd, through
 * PAM). Made so that it is no risk while it exists and does not outlive its run:
 * - a fresh name and a random password per run, so parallel runs never share (or reset
 *   the password of) an account, and nothing is published;
 * - no login shell (/usr/sbin/nologin) and a home inside the caller's temporary folder;
 * - its own PAM service (/etc/pam.d/<name>) asking only pam_unix, so the shell need not be
 *   in /etc/shells (Debian's /etc/pam.d/vsftpd has pam_shells) and a bad password is
 *   refused without pam_unix's 2 s delay;
 * - removed (userdel, the PAM file) by `remove()`, else when the process exits, else,
 *   after a crash, by the next run: the comment field names the PID that made it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomPassword } from './ftp-daemon.js';

/** Account names: this prefix and 8 hex digits. */
const NAME_PREFIX = 'ferrytmp';
/** The comment (GECOS) field: this and the PID that made the account. */
const MARK = 'Ferry test account, pid ';

export interface TestAccount {
  name: string;
  password: string;
  uid: number;
  gid: number;
  /** The PAM service (a file in /etc/pam.d) that authenticates this account. */
  pamService: string;
  /** Removes the account and its PAM service (idempotent). */
  remove(): void;
}

/** A command on PATH or in the sbin folders (which a non-login PATH may lack). */
function findOnPath(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/** False when test accounts can be made here, else why not. */
export function testAccountSkipReason(): false | string {
  if (process.getuid?.() !== 0) return 'making a local account needs root';
  for (const tool of ['useradd', 'userdel', 'chpasswd']) if (!findOnPath(tool)) return `${tool} is missing (needed for a temporary local account)`;
  if (!existsSync('/etc/pam.d')) return 'there is no /etc/pam.d (PAM is needed to authenticate the account)';
  return false;
}

function pamFile(name: string): string {
  return join('/etc/pam.d', name);
}

function removeAccount(name: string): void {
  // -f: the server's session processes may still be running as the account.
  try {
    execFileSync(findOnPath('userdel')!, ['-f', name], { stdio: 'pipe' });
  } catch (error) {
    if (passwdEntry(name)) throw new Error(`userdel ${name} failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
  }
  rmSync(pamFile(name), { force: true });
}

function passwdEntry(name: string): string[] | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line ? line.split(':') : null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes accounts (and PAM services) that earlier runs made and could not remove because they were killed. */
function removeStaleAccounts(): void {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name = '', , , , comment = ''] = line.split(':');
    if (!name.startsWith(NAME_PREFIX) || !comment.startsWith(MARK)) continue;
    if (!processAlive(Number(comment.slice(MARK.length)))) removeAccount(name);
  }
}

/** Makes a fresh account whose home is `home` (which must exist or be made by the caller). */
export function createTestAccount(home: string): TestAccount {
  const reason = testAccountSkipReason();
  if (reason) throw new Error(reason);
  removeStaleAccounts();
  const name = `${NAME_PREFIX}${randomBytes(4).toString('hex')}`;
  const password = randomPassword();
  const shell = existsSync('/usr/sbin/nologin') ? '/usr/sbin/nologin' : '/bin/false';
  // -r: a system account (no aging, no mail spool, a uid outside the people range); -U: its own group, which userdel removes with it.
  execFileSync(findOnPath('useradd')!, ['-r', '-U', '-M', '-d', home, '-s', shell, '-c', `${MARK}${process.pid}`, name], { stdio: 'pipe' });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off('exit', remove);
    removeAccount(name);
  };
  process.once('exit', remove);
  try {
    execFileSync(findOnPath('chpasswd')!, { input: `${name}:${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    writeFileSync(
      pamFile(name),
      [`# Ferry's temporary test account ${name}: made and removed by the tests (test/helpers/system-account.ts).`, 'auth required pam_unix.so nodelay', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
    );
    const entry = passwdEntry(name)!;
    return { name, password, uid: Number(entry[2]), gid: Number(entry[3]), pamService: name, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
