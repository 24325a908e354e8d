/**
 * A private vsftpd instance for tests and benchmarks: a foreground child process
 * (`vsftpd CONFIGFILE`, listen=YES, background=NO) on 127.0.0.1 and a free port,
 * serving a fresh temporary folder to one temporary local user (system-account.ts: a
 * random name and password per run, no shell, removed afterwards), optionally with
 * explicit FTPS (a self-signed certificate, require_ssl_reuse=YES).
 *
 * What vsftpd 3.0.3 on Debian 12 needs, found by trying (the "500 OOPS" replies say
 * what is wrong):
 * - the package `vsftpd` (it installs /usr/sbin/vsftpd; it does not start a daemon
 *   where there is no systemd);
 * - a local user that PAM accepts (vsftpd has no user file of its own): the account's
 *   own PAM service asks only pam_unix, so Debian's pam_shells and /etc/ftpusers
 *   (pam_listfile) do not apply;
 * - that user's home directory must exist: vsftpd changes into it before local_root
 *   ("500 OOPS: cannot change directory:..."); it is the served folder itself;
 * - local_root owned by the user and every folder above it searchable by it;
 * - secure_chroot_dir: an existing empty folder;
 * - root privileges (to create the user, and for vsftpd to switch to it).
 *
 * `vsftpdSkipReason()` tells a test why it cannot run here; `startVsftpd()` waits until
 * the port answers 220; `stop()` ends only the PID it started and removes its folders
 * and the account.
 */
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCertificate } from './certificate.js';
import { daemonInstance, freePortRange, launchFtpDaemon, serverFolder, type FtpDaemonInstance } from './ftp-daemon.js';
import { createTestAccount, testAccountSkipReason } from './system-account.js';

export const VSFTPD_BIN = '/usr/sbin/vsftpd';

/** For `{ skip }`: false when vsftpd can run here, else why not. */
export function vsftpdSkipReason(options: { ssl?: boolean } = {}): false | string {
  if (!existsSync(VSFTPD_BIN)) return `vsftpd is not installed (${VSFTPD_BIN} missing; apt-get install vsftpd)`;
  if (process.getuid?.() !== 0) return 'the vsftpd tests need root (to create the local FTP user and let vsftpd switch to it)';
  const account = testAccountSkipReason();
  if (account) return account;
  if (options.ssl && !existsSync('/usr/bin/openssl')) return 'openssl is not installed (needed for the vsftpd certificate)';
  return false;
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
export async function startVsftpd(options: { ssl?: boolean; extra?: Record<string, string | number> } = {}): Promise<FtpDaemonInstance> {
  const reason = vsftpdSkipReason(options);
  if (reason) throw new Error(reason);
  const { base, root } = serverFolder('ferry-vsftpd-');
  const empty = join(base, 'empty');
  mkdirSync(empty, { mode: 0o755 });
  let removeAccount = () => {};
  const cleanUp = () => {
    removeAccount();
    rmSync(base, { recursive: true, force: true });
  };
  try {
    const account = createTestAccount(root);
    removeAccount = account.remove;
    chownSync(root, account.uid, account.gid);
    const certificate = options.ssl ? generateCertificate(base) : null;
    const pasvRange = await freePortRange();
    const configFile = join(base, 'vsftpd.conf');
    const daemon = await launchFtpDaemon('vsftpd', (port) => {
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
        pam_service_name: account.pamService,
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
      writeFileSync(configFile, configText(settings));
      return { file: VSFTPD_BIN, args: [configFile] };
    });
    return daemonInstance(daemon, { user: account.name, password: account.password, uid: account.uid, gid: account.gid, root, certificate, pasvRange, cleanUp });
  } catch (error) {
    cleanUp();
    throw error;
  }
}
