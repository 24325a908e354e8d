/**
 * The client library and the `ferry` binary against Pure-FTPd 1.0.50 from Debian 12
 * (unpacked into .cache/debian, not installed; skipped where that is impossible): the
 * tests every peer gets (peer-operations.ts), with Pure-FTPd's MLSD, its own TLS, and its
 * active mode (it connects back from port 20).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pureftpdSkipReason, pureftpdVersion, startPureftpd } from '../helpers/pureftpd.js';
import { peerCliTests, peerClientTests, usePeer } from './peer-operations.js';

const skip = pureftpdSkipReason();

describe(`FtpClient and ferry against Pure-FTPd (${pureftpdVersion()})`, { skip }, () => {
  const peer = usePeer(() => startPureftpd({ tls: true }));

  test('FEAT has MLST, EPSV and AUTH TLS', () =>
    peer.withClient({}, async (client) => {
      assert.ok(client.features.has('MLST') && client.features.has('EPSV') && client.features.has('AUTH'), [...client.features.keys()].join(' '));
    }));

  peerClientTests(peer, { requiresTlsReuse: false });
  peerCliTests(peer);
});
