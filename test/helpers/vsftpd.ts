/**
 * A private vsftpd instance for tests and benchmarks: a foreground child process
 * (`vsftpd CONFIGFILE`, listen=YES, background=NO) on 127.0.0.1 and a free port,
 * serving a fresh temporary folder to one local system user, optionally with explicit
 * FTPS (a self-signed certificate, require_ssl_reuse=YES).
 *
 * What vsftpd 3.0.3 on Debian 12 needs, found by trying (the "500 OOPS" replies say
 * what is wrong):
 * - the package `vsftpd` (it installs /usr/sbin/vsftpd and /etc/pam.d/vsftpd; it does
 *   not start a daemon where there is no systemd);
 * - a local user with a password (pam_unix), a shell listed in /etc/shells
 *   (pam_shells) and not listed in /etc/ftpusers (pam_listfile);
 * - that user's home directory must exist: vsftpd changes into it before local_root
 *   ("500 OOPS: cannot change directory:/home/USER"), so it is created when missing;
 * - local_root owned by the user and every folder above it searchable by it;
 * - secure_chroot_dir: an existing empty folder;
 * - root privileges (to create the user, and for vsftpd to switch to it).
 *
 * `vsftpdSkipReason()` tells a test why it cannot run here; `startVsftpd()` waits until
 * the port answers 220; `stop()` ends only the PID it started and removes its folders.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateCertificate } from './certificate.js';
import { killOnExit, stopChild } from './run-process.js';

export const VSFTPD_BIN = '/usr/sbin/vsftpd';
export const VSFTPD_USER = 'ferrytest';
export const VSFTPD_PASSWORD = 'ferry-test-password';

/** Passive ports reserved per instance. */
const PASV_RANGE_SIZE = 16;
const START_TIMEOUT_MS = 10_000;

export interface VsftpdInstance {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Host folder that is "/" for the user (local_root, chrooted). */
  root: string;
  /** Explicit FTPS (AUTH TLS) is enabled. */
  ssl: boolean;
  /** The self-signed certificate (PEM) when `ssl`. */
  certPem?: string;
  pid: number;
  pasvRange: { min: number; max: number };
  /** Writes a file under `root` (folders created) owned by the FTP user. */
  writeFile(relative: string, data: Buffer | string): string;
  /** Creates a folder under `root` owned by the FTP user. */
  mkdir(relative: string): string;
  /** stdout and stderr of vsftpd so far. */
  output(): string;
  stop(): Promise<void>;
}

function commandExists(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command on PATH or in the sbin folders (which a non-login PATH may lack). */
function findOnPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir && commandExists(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** For `{ skip }`: false when vsftpd can run here, else why not. */
export function vsftpdSkipReason(options: { ssl?: boolean } = {}): false | string {
  if (!existsSync(VSFTPD_BIN)) return `vsftpd is not installed (${VSFTPD_BIN} missing; apt-get install vsftpd)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the vsftpd tests need root (to create the local FTP user and let vsftpd switch to it)';
  if (!findOnPath('useradd') && !userEntry(VSFTPD_USER)) return 'useradd is missing and the FTP user does not exist';
  if (!findOnPath('chpasswd')) return 'chpasswd is missing (needed to set the FTP user\'s password)';
  if (options.ssl && !findOnPath('openssl')) return 'openssl is not installed (needed for the vsftpd certificate)';
  return false;
}

interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function userEntry(name: string): PasswdEntry | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '', shell: fields[6] ?? '' };
}

/** Creates the FTP user when missing, (re)sets its password, makes its home and checks its shell. */
function ensureUser(): PasswdEntry {
  if (!userEntry(VSFTPD_USER)) {
    try {
      execFileSync(findOnPath('useradd')!, ['-M', '-s', '/bin/bash', VSFTPD_USER], { stdio: 'pipe' });
    } catch (error) {
      // Another test process may have created it at the same moment.
      if (!userEntry(VSFTPD_USER)) throw new Error(`useradd ${VSFTPD_USER} failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
    }
  }
  execFileSync(findOnPath('chpasswd')!, { input: `${VSFTPD_USER}:${VSFTPD_PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  const entry = userEntry(VSFTPD_USER)!;
  if (entry.home && !existsSync(entry.home)) {
    mkdirSync(entry.home, { recursive: true, mode: 0o755 });
    chownSync(entry.home, entry.uid, entry.gid);
  }
  const shells = existsSync('/etc/shells') ? readFileSync('/etc/shells', 'utf8').split('\n').map((l) => l.trim()) : [];
  if (!shells.includes(entry.shell)) throw new Error(`${VSFTPD_USER}'s shell ${entry.shell} is not in /etc/shells: pam_shells would refuse the login`);
  const denied = existsSync('/etc/ftpusers') ? readFileSync('/etc/ftpusers', 'utf8').split('\n').map((l) => l.trim()) : [];
  if (denied.includes(VSFTPD_USER)) throw new Error(`${VSFTPD_USER} is listed in /etc/ftpusers: pam_listfile would refuse the login`);
  return entry;
}

/** A PAM service that authenticates local users: Debian's /etc/pam.d/vsftpd, else our own. */
function pamService(): string {
  if (existsSync('/etc/pam.d/vsftpd')) return 'vsftpd';
  const name = 'ferry-vsftpd-test';
  const file = `/etc/pam.d/${name}`;
  if (!existsSync(file)) {
    writeFileSync(file, ['auth required pam_unix.so', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'));
  }
  return name;
}

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => (s.listening ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)));
}

/** A port the OS says is free right now (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  await closeAll([server]);
  return port;
}

/** `count` consecutive ports that could all be bound a moment ago (bounded attempts). */
async function freePortRange(count: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count - 1 > 65535) continue;
    const servers: Server[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const server = createServer();
      servers.push(server);
      ok = await listen(server, port);
    }
    await closeAll(servers);
    if (ok) return { min: base, max: base + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Resolves with the first line the server sends, or rejects (refused, timeout). */
function greeting(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => finish(new Error('no greeting')), timeoutMs);
    function finish(error: Error | null, line?: string) {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line!);
    }
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) {
        socket.write('QUIT\r\n');
        finish(null, text.slice(0, end).trim());
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('closed before the greeting')));
  });
}

function configText(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n') + '\n';
}

/**
 * Starts vsftpd. Throws with vsftpd's own output when it does not come up; call
 * `vsftpdSkipReason()` first to skip cleanly where it cannot run.
 */
export async function startVsftpd(options: { ssl?: boolean; extra?: Record<string, string | number> } = {}): Promise<VsftpdInstance> {
  const reason = vsftpdSkipReason(options);
  if (reason) throw new Error(reason);
  const user = ensureUser();
  const pam = pamService();
  const base = mkdtempSync(join(tmpdir(), 'ferry-vsftpd-'));
  chmodSync(base, 0o755); // the FTP user must be able to reach local_root below it
  const root = join(base, 'root');
  const empty = join(base, 'empty');
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(empty, { mode: 0o755 });
  chownSync(root, user.uid, user.gid);
  let child: ChildProcess | undefined;
  try {
    const certificate = options.ssl ? generateCertificate(base) : null;
    const pasvRange = await freePortRange(PASV_RANGE_SIZE);
    // The listen port can be taken between our probe and vsftpd's bind: a few tries.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const settings: Record<string, string | number> = {
        listen: 'YES',
        listen_ipv6: 'NO',
        background: 'NO',
        listen_port: port,
        listen_address: '127.0.0.1',
        pasv_enable: 'YES',
        pasv_min_port: pasvRange.min,
        pasv_max_port: pasvRange.max,
        seccomp_sandbox: 'NO',
        // No PID/IPC/network namespaces: containers without CAP_SYS_ADMIN cannot make them.
        isolate: 'NO',
        isolate_network: 'NO',
        anonymous_enable: 'NO',
        local_enable: 'YES',
        write_enable: 'YES',
        local_umask: '022',
        chroot_local_user: 'YES',
        allow_writeable_chroot: 'YES',
        local_root: root,
        pam_service_name: pam,
        max_per_ip: 0,
        max_clients: 0,
        xferlog_enable: 'NO',
        secure_chroot_dir: empty,
        port_enable: 'YES',
        connect_from_port_20: 'NO',
        ...(certificate
          ? {
              ssl_enable: 'YES',
              rsa_cert_file: certificate.cert,
              rsa_private_key_file: certificate.key,
              ssl_ciphers: 'HIGH',
              require_ssl_reuse: 'YES',
              force_local_data_ssl: 'NO',
              force_local_logins_ssl: 'NO',
              implicit_ssl: 'NO',
            }
          : { ssl_enable: 'NO' }),
        ...options.extra,
      };
      const configFile = join(base, 'vsftpd.conf');
      writeFileSync(configFile, configText(settings));
      let output = '';
      const started = spawn(VSFTPD_BIN, [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      started.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
      started.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
      started.on('error', (error) => (output += `spawn error: ${error.message}\n`));
      let exited = started.exitCode !== null;
      // If the test process exits without stop() (a crash, process.exit), do not leave vsftpd behind.
      killOnExit(started);
      started.once('exit', () => (exited = true));
      const deadline = Date.now() + START_TIMEOUT_MS;
      let line: string | null = null;
      while (!exited && Date.now() < deadline) {
        line = await greeting(port, 1000).catch(() => null);
        if (line !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (line?.startsWith('220')) {
        const instance: VsftpdInstance = {
          host: '127.0.0.1',
          port,
          user: VSFTPD_USER,
          password: VSFTPD_PASSWORD,
          root,
          ssl: certificate !== null,
          certPem: certificate ? readFileSync(certificate.cert, 'utf8') : undefined,
          pid: started.pid!,
          pasvRange,
          writeFile(relative, data) {
            const path = join(root, relative);
            instance.mkdir(dirname(relative));
            writeFileSync(path, data);
            chownSync(path, user.uid, user.gid);
            return path;
          },
          mkdir(relative) {
            let path = root;
            for (const part of relative.split('/').filter((p) => p && p !== '.')) {
              path = join(path, part);
              if (!existsSync(path)) {
                mkdirSync(path, { mode: 0o755 });
                chownSync(path, user.uid, user.gid);
              }
            }
            return path;
          },
          output: () => output,
          stop: async () => {
            await stopChild(started);
            rmSync(base, { recursive: true, force: true });
          },
        };
        return instance;
      }
      await stopChild(started);
      child = undefined;
      const bindFailure = /could not bind|address already in use/i.test(output);
      if (!bindFailure || attempt >= 3) throw new Error(`vsftpd did not start (greeting: ${line ?? 'none'}): ${output.trim() || '(no output)'}`);
    }
  } catch (error) {
    if (child) await stopChild(child);
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
}
