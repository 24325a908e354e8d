/** The peer servers the test helpers start (test/helpers/ftp-daemon.ts), as the bench sees them. */
import type { FtpDaemonInstance, PeerServerOptions } from '../test/helpers/ftp-daemon.js';
import type { BenchServer, ServerName, ServerSetup } from './types.js';

export function daemonBenchServer(name: ServerName, instance: FtpDaemonInstance): BenchServer {
  return { name, port: instance.port, pid: instance.pid, user: instance.user, password: instance.password, stop: () => instance.stop() };
}

/** Sessions a peer admits at once: the forking peers run up to 1,000 idle sessions (idle_10000 is Ferry's alone). */
const PEER_MAX_SESSIONS = 1100;

/**
 * Starts an unpacked peer (ProFTPD, Pure-FTPd) on what Ferry and vsftpd get here: the
 * bench's folder and certificate, any free passive port, room for every session.
 * Throws the helper's skip reason when it cannot run (not fetched, not root).
 */
export async function startUnpackedPeer(
  name: ServerName,
  peer: { skipReason(): false | string; start(options: PeerServerOptions): Promise<FtpDaemonInstance> },
  setup: ServerSetup,
): Promise<BenchServer> {
  const reason = peer.skipReason();
  if (reason) throw new Error(reason);
  const instance = await peer.start({ root: setup.root, certificate: { cert: setup.cert, key: setup.key }, anyPassivePort: true, maxSessions: PEER_MAX_SESSIONS });
  return daemonBenchServer(name, instance);
}
