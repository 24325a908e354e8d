/**
 * A private ProFTPD 1.3.8 (Debian 12's proftpd-core, unpacked by debian-package.ts, not
 * installed) for tests and benchmarks: `proftpd -n -c CONFIG` as a foreground child on
 * 127.0.0.1, a free control port and a private passive range, serving a fresh temporary
 * folder (chrooted, DefaultRoot ~) to one virtual user, optionally with explicit FTPS
 * (mod_tls from proftpd-mod-crypto, with a self-signed certificate). The benchmark
 * passes PeerServerOptions: its own folder and certificate, any passive port, more sessions.
 *
 * What it needs, found by trying:
 * - the packages below: proftpd-core links libraries a machine without ProFTPD may lack
 *   (hiredis, libmemcached and its libhashkit, pcre2-posix), put on LD_LIBRARY_PATH;
 *   mod_tls.so lives in proftpd-mod-crypto, so ModulePath is that package's folder;
 * - no system account: the user is a line in a private AuthUserFile (a crypt() hash,
 *   a uid/gid and the home), the only auth module asked (AuthOrder mod_auth_file.c);
 *   its group in a private AuthGroupFile; RequireValidShell off;
 * - every path ProFTPD would otherwise put under /run (PID file, scoreboard, the
 *   mod_ctrls socket) pointed into the temporary folder, and DelayEngine off (mod_delay
 *   slows logins on purpose, and keeps a table under /run);
 * - AllowStoreRestart on, or REST before STOR is refused;
 * - root, to chroot each session and switch it to the user.
 *
 * Quirks a client meets: mod_tls refuses a protected data connection whose TLS session
 * is not the control connection's (TLSOptions NoSessionReuseRequired is not set); MLSD
 * shows dotfiles (LIST does not), symlinks as type=OS.unix=symlink, and leaves out a
 * dangling symlink (an absolute target resolves inside the chroot).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unpackedServer } from './debian-package.js';
import { cryptHash, daemonInstance, freePortRange, launchFtpDaemon, peerCertificate, peerFolder, randomPassword, type FtpDaemonInstance, type PeerServerOptions } from './ftp-daemon.js';

/** Debian 12 packages ProFTPD with mod_tls runs from (the libraries are those proftpd-core links that a plain machine lacks). */
export const PROFTPD_PACKAGES = ['proftpd-core', 'proftpd-mod-crypto', 'libhiredis0.14', 'libmemcached11', 'libmemcachedutil2', 'libhashkit2', 'libpcre2-posix3', 'libsodium23'] as const;

export const PROFTPD_USER = 'ferry';
/** The FTP user's uid/gid: Debian's nobody/nogroup, so no account of our own is needed. */
const FTP_UID = 65534;
const FTP_GID = 65534;

const proftpd = unpackedServer('ProFTPD', PROFTPD_PACKAGES, ['usr/sbin/proftpd', 'usr/lib/proftpd/mod_tls.so'], 'ProFTPD chroots each session and switches it to the FTP user');

/** For `{ skip }`: false when ProFTPD can run here, else why not. */
export const proftpdSkipReason = proftpd.skipReason;
/** "proftpd-core 1.3.8+dfsg-4+deb12u5": the package version in use (for test names and reports). */
export const proftpdVersion = proftpd.version;

/**
 * Starts ProFTPD. Throws with its own output when it does not come up; call
 * `proftpdSkipReason()` first to skip cleanly where it cannot run.
 */
export async function startProftpd(options: PeerServerOptions = {}): Promise<FtpDaemonInstance> {
  const packages = proftpd.packages();
  const { base, root } = peerFolder('ferry-proftpd-', options, FTP_UID, FTP_GID);
  const cleanUp = () => rmSync(base, { recursive: true, force: true });
  try {
    const password = randomPassword();
    const users = join(base, 'passwd');
    const groups = join(base, 'group');
    writeFileSync(users, `${PROFTPD_USER}:${cryptHash(password)}:${FTP_UID}:${FTP_GID}::${root}:/bin/false\n`, { mode: 0o600 });
    writeFileSync(groups, `${PROFTPD_USER}:x:${FTP_GID}:\n`, { mode: 0o600 });
    const certificate = peerCertificate(options, base);
    const tlsLog = join(base, 'tls.log');
    const pasvRange = options.anyPassivePort ? null : await freePortRange();
    const configFile = join(base, 'proftpd.conf');
    const daemon = await launchFtpDaemon('proftpd', (port) => {
      const directives = [
        'ServerName "Ferry test"',
        'ServerType standalone',
        `Port ${port}`,
        'DefaultAddress 127.0.0.1',
        'SocketBindTight on',
        'UseIPv6 off',
        ...(pasvRange ? [`PassivePorts ${pasvRange.min} ${pasvRange.max}`] : []),
        `ModulePath ${dirname(packages.file('usr/lib/proftpd/mod_tls.so'))}`,
        `PidFile ${join(base, 'proftpd.pid')}`,
        `ScoreboardFile ${join(base, 'proftpd.scoreboard')}`,
        `ControlsSocket ${join(base, 'proftpd.sock')}`,
        'DelayEngine off',
        'WtmpLog off',
        'UseReverseDNS off',
        'TransferLog none',
        // The daemon drops to Debian's nobody (looked up in the system files when the
        // config is read, before AuthOrder applies); each session becomes the FTP user.
        'User nobody',
        'Group nogroup',
        'AuthOrder mod_auth_file.c',
        `AuthUserFile ${users}`,
        `AuthGroupFile ${groups}`,
        'AuthPAM off',
        'RequireValidShell off',
        'DefaultRoot ~',
        'Umask 022',
        'AllowOverwrite on',
        'AllowStoreRestart on',
        `MaxInstances ${options.maxSessions ?? 64}`,
        ...(certificate
          ? [
              'LoadModule mod_tls.c',
              'TLSEngine on',
              `TLSLog ${tlsLog}`,
              'TLSProtocol TLSv1.2 TLSv1.3',
              `TLSECCertificateFile ${certificate.cert}`,
              `TLSECCertificateKeyFile ${certificate.key}`,
              'TLSRequired off',
              'TLSVerifyClient off',
            ]
          : []),
      ];
      writeFileSync(configFile, directives.join('\n') + '\n');
      return { file: packages.file('usr/sbin/proftpd'), args: ['-n', '-c', configFile], env: packages.env };
    });
    return daemonInstance(daemon, {
      user: PROFTPD_USER,
      password,
      uid: FTP_UID,
      gid: FTP_GID,
      root,
      certificate,
      pasvRange,
      cleanUp,
      // mod_tls logs its refusals (a data connection without session reuse) only to TLSLog.
      output: () => daemon.output() + (existsSync(tlsLog) ? readFileSync(tlsLog, 'utf8') : ''),
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
}
