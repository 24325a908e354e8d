/**
 * A private Pure-FTPd 1.0.50 (Debian 12's pure-ftpd, unpacked by debian-package.ts, not
 * installed) for tests and benchmarks: a foreground child (no -B) on 127.0.0.1, a free
 * control port and a private passive range, serving a fresh temporary folder (chrooted)
 * to one virtual user from its own PureDB, optionally with explicit FTPS (-Y 1, a
 * self-signed certificate). The benchmark passes PeerServerOptions: its own folder and
 * certificate, any passive port (then the half-the-ports cap below does not apply), more sessions (-c).
 *
 * What it needs, found by trying:
 * - the package pure-ftpd (the server and pure-pw; pure-ftpd-common only has Debian's
 *   wrapper scripts) and libsodium23, which a plain machine may lack;
 * - no system account: the user is a line in a private passwd file turned into a PureDB
 *   by `pure-pw mkdb`; its home ends in "/./" (chroot there). We write the line with a
 *   SHA-512 crypt() hash ourselves: pure-pw's own argon2id hash makes each login slow;
 * - root (it chroots each session and switches it to the virtual user's uid).
 *
 * Quirks a client meets: in active mode it connects from port 20 (then 2, 3, ...: the
 * source ports are compiled in); it admits at most half as many clients as it has
 * passive ports (so it gets 32); it waits 3 to 6 s before refusing a bad password. Also
 * compiled in and left behind: an empty /run/pure-ftpd folder (its session scoreboard).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackedServer } from './debian-package.js';
import { cryptHash, daemonInstance, freePortRange, launchFtpDaemon, PASV_RANGE_SIZE, peerCertificate, peerFolder, randomPassword, type FtpDaemonInstance, type PeerServerOptions } from './ftp-daemon.js';

/** Debian 12 packages Pure-FTPd runs from. */
export const PUREFTPD_PACKAGES = ['pure-ftpd', 'libsodium23'] as const;

export const PUREFTPD_USER = 'ferry';
/** The virtual user's uid/gid: Debian's nobody/nogroup, so no account of our own is needed. */
const FTP_UID = 65534;
const FTP_GID = 65534;

const pureftpd = unpackedServer('Pure-FTPd', PUREFTPD_PACKAGES, ['usr/sbin/pure-ftpd', 'usr/bin/pure-pw'], 'Pure-FTPd chroots each session and switches it to the virtual user');

/** For `{ skip }`: false when Pure-FTPd can run here, else why not. */
export const pureftpdSkipReason = pureftpd.skipReason;
/** "pure-ftpd 1.0.50-2.1+b2": the package version in use (for test names and reports). */
export const pureftpdVersion = pureftpd.version;

/**
 * Starts Pure-FTPd. Throws with its own output when it does not come up; call
 * `pureftpdSkipReason()` first to skip cleanly where it cannot run.
 */
export async function startPureftpd(options: PeerServerOptions = {}): Promise<FtpDaemonInstance> {
  const packages = pureftpd.packages();
  const { base, root } = peerFolder('ferry-pureftpd-', options, FTP_UID, FTP_GID);
  const cleanUp = () => rmSync(base, { recursive: true, force: true });
  try {
    const password = randomPassword();
    const users = join(base, 'pureftpd.passwd');
    const database = join(base, 'pureftpd.pdb');
    // The fields pure-pw writes: user, hash, uid, gid, gecos, home ("/./": chroot), then quotas, ratios, limits (empty).
    writeFileSync(users, `${PUREFTPD_USER}:${cryptHash(password)}:${FTP_UID}:${FTP_GID}::${root}/./::::::::::::\n`, { mode: 0o600 });
    execFileSync(packages.file('usr/bin/pure-pw'), ['mkdb', database, '-f', users], { env: packages.env, stdio: 'pipe', timeout: 10_000 });
    const certificate = peerCertificate(options, base);
    // Twice the usual range: Pure-FTPd admits half as many clients as it has passive ports.
    const pasvRange = options.anyPassivePort ? null : await freePortRange(2 * PASV_RANGE_SIZE);
    const daemon = await launchFtpDaemon('pure-ftpd', (port) => ({
      file: packages.file('usr/sbin/pure-ftpd'),
      args: [
        '-S', `127.0.0.1,${port}`,
        ...(pasvRange ? ['-p', `${pasvRange.min}:${pasvRange.max}`] : []),
        ...(options.maxSessions ? ['-c', String(options.maxSessions)] : []),
        '-l', `puredb:${database}`,
        '-E', // no anonymous logins
        '-A', // chroot everyone
        '-H', // no reverse DNS
        '-f', 'none', // no syslog
        '-g', join(base, 'pure-ftpd.pid'),
        ...(certificate ? ['-Y', '1', '-2', `${certificate.cert},${certificate.key}`] : []),
      ],
      env: packages.env,
    }));
    return daemonInstance(daemon, { user: PUREFTPD_USER, password, uid: FTP_UID, gid: FTP_GID, root, certificate, pasvRange, cleanUp });
  } catch (error) {
    cleanUp();
    throw error;
  }
}
