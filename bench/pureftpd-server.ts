/**
 * Pure-FTPd for the benchmark: the private instance the client tests use
 * (test/helpers/pureftpd.ts: its user in a PureDB made by the unpacked pure-pw, sendfile
 * built in, no syslog), serving the bench's folder with the bench's certificate.
 */
import { pureftpdSkipReason, startPureftpd } from '../test/helpers/pureftpd.js';
import { startUnpackedPeer } from './daemon-server.js';
import type { BenchServer, ServerSetup } from './types.js';

export { pureftpdVersion } from '../test/helpers/pureftpd.js';

export function startPureftpdBench(setup: ServerSetup): Promise<BenchServer> {
  return startUnpackedPeer('pureftpd', { skipReason: pureftpdSkipReason, start: startPureftpd }, setup);
}
