/**
 * `run_as`: started as root to bind the privileged ports (21, 990), the server gives root
 * up for good once everything root is needed for is open. Node has no getpwnam, so the
 * account is looked up with getent (NSS: /etc/passwd, LDAP, sssd …), falling back to the
 * files when getent is missing; it is looked up before anything is bound, so a typo stops
 * the start (exit 2) instead of leaving a server running as root.
 *
 * Binding port 20 for active-mode data (active.connect_from_port_20) needs a privilege:
 * vsftpd keeps a privileged helper process for it; Ferry keeps, when asked, that one
 * capability (CAP_NET_BIND_SERVICE, through native/privileges.c) and nothing else of root.
 * Without it (not asked, or the addon not built) active connections come from an
 * ephemeral port (see data/active-connector.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { loadNativeAddon } from '../util/native-addon.js';

interface PrivilegesAddon {
  keepCapabilities(): void;
  limitToBindService(): void;
}

function loadAddon(): PrivilegesAddon | null {
  return loadNativeAddon<PrivilegesAddon>('ferry_privileges');
}

/** Linux's number for CAP_NET_BIND_SERVICE: its bit in /proc/self/status CapEff. */
const CAP_NET_BIND_SERVICE = 10n;
let bindsPrivilegedPorts: boolean | undefined;

/**
 * Whether this process may bind ports below 1024 (port 20 for active mode): root, or
 * the capability (kept by run_as, or given by systemd's AmbientCapabilities). Read once
 * from /proc, and again after a switch of account.
 */
export function mayBindPrivilegedPorts(): boolean {
  if (bindsPrivilegedPorts === undefined) {
    try {
      const effective = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      bindsPrivilegedPorts = effective !== undefined && ((BigInt(`0x${effective}`) >> CAP_NET_BIND_SERVICE) & 1n) === 1n;
    } catch {
      bindsPrivilegedPorts = process.getuid?.() === 0;
    }
  }
  return bindsPrivilegedPorts;
}

const KEY = 'run_as';

/** The account `run_as` names, resolved. */
export interface RunAsAccount {
  user: string;
  uid: number;
  group: string;
  gid: number;
}

/** An entry of the passwd or group database (its colon-separated fields), by name or number. */
function lookup(database: 'passwd' | 'group', key: string): string[] | null {
  try {
    return execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.split(':');
  } catch (error) {
    // getent ran and found nothing (exit 2); only a missing getent falls back to the files.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  const lines = readFileSync(`/etc/${database}`, 'utf8').split('\n').map((line) => line.split(':'));
  return lines.find((fields) => fields[0] === key) ?? lines.find((fields) => /^\d+$/.test(key) && fields[2] === key) ?? null;
}

/** Resolves "USER" or "USER:GROUP" (names or numbers); a config error naming run_as when either is unknown. */
export function resolveRunAs(spec: string): RunAsAccount {
  const [userKey, groupKey] = spec.split(':') as [string, string | undefined];
  const passwd = lookup('passwd', userKey);
  if (!passwd) throw new ConfigError(`${KEY}: there is no user "${userKey}" (create it first, e.g. \`useradd --system ${userKey}\`)`, KEY);
  const uid = Number(passwd[2]);
  if (uid === 0) throw new ConfigError(`${KEY}: "${userKey}" is root (uid 0); name an unprivileged account`, KEY);
  const group = lookup('group', groupKey ?? passwd[3]!);
  if (!group) throw new ConfigError(`${KEY}: there is no group "${groupKey ?? passwd[3]}"`, KEY);
  return { user: passwd[0]!, uid, group: group[0]!, gid: Number(group[2]) };
}

/** Node has had process.initgroups since 0.9 (POSIX), but @types/node 20 does not declare it. */
const initgroups = (user: string, gid: number) => (process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void }).initgroups!(user, gid);

const describe = (account: RunAsAccount) => `${account.user}:${account.group} (uid ${account.uid}, gid ${account.gid})`;

/**
 * Checks, before binding, that the switch can happen: as root it can; otherwise only when
 * the process already runs as that account (e.g. started by systemd with User=), else
 * a config error.
 */
export function checkRunAs(account: RunAsAccount): void {
  const uid = process.getuid!();
  if (uid === 0) return;
  if (uid === account.uid && process.getgid!() === account.gid) return;
  throw new ConfigError(`${KEY}: switching to ${describe(account)} needs root, but Ferry runs as uid ${uid}, gid ${process.getgid!()}: start it as root, or unset ${KEY}`, KEY);
}

/**
 * Becomes the account for good: supplementary groups, then group, then user (after
 * setuid no other change is allowed), then proves root cannot be had back. With
 * `keepBindService`, CAP_NET_BIND_SERVICE stays (and only it); returns whether it did.
 * A no-op when already running as the account (checkRunAs let that through).
 */
export function dropPrivileges(account: RunAsAccount, options: { keepBindService?: boolean } = {}): boolean {
  if (process.getuid!() !== 0) return false;
  const addon = options.keepBindService ? loadAddon() : null;
  try {
    // The account's supplementary groups too (e.g. ssl-cert, to re-read a key on SIGHUP); root's go.
    initgroups(account.user, account.gid);
    process.setgid!(account.gid);
    addon?.keepCapabilities();
    process.setuid!(account.uid);
    addon?.limitToBindService();
  } catch (error) {
    throw new ConfigError(`${KEY}: could not switch to ${describe(account)}: ${(error as Error).message}`, KEY);
  } finally {
    bindsPrivilegedPorts = undefined;
  }
  const ids = [process.getuid!(), process.geteuid!(), process.getgid!(), process.getegid!()];
  const expected = [account.uid, account.uid, account.gid, account.gid];
  if (ids.some((id, index) => id !== expected[index]) || regainsRoot()) {
    throw new ConfigError(`${KEY}: after switching to ${describe(account)} the process still holds uid/gid ${ids.join('/')} or can regain root; refusing to serve`, KEY);
  }
  return addon !== null && mayBindPrivilegedPorts();
}

/** True when the process can become root again (it must not, after setuid). */
function regainsRoot(): boolean {
  try {
    process.setuid!(0);
    return true;
  } catch {
    return false;
  }
}
