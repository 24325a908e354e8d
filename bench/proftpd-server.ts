/**
 * ProFTPD for the benchmark: the private instance the client tests use
 * (test/helpers/proftpd.ts: its user in an AuthUserFile, sendfile on by default, no
 * transfer log), serving the bench's folder with the bench's certificate.
 */
import { proftpdSkipReason, startProftpd } from '../test/helpers/proftpd.js';
import { startUnpackedPeer } from './daemon-server.js';
import type { BenchServer, ServerSetup } from './types.js';

export { proftpdVersion } from '../test/helpers/proftpd.js';

export function startProftpdBench(setup: ServerSetup): Promise<BenchServer> {
  return startUnpackedPeer('proftpd', { skipReason: proftpdSkipReason, start: startProftpd }, setup);
}
