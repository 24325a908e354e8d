/**
 * The client library and the `ferry` binary against ProFTPD 1.3.8 from Debian 12
 * (unpacked into .cache/debian, not installed; skipped where that is impossible): the
 * tests every peer gets (peer-operations.ts), with ProFTPD's MLSD and mod_tls, which
 * refuses a protected data connection that does not resume the control TLS session.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { proftpdSkipReason, proftpdVersion, startProftpd } from '../helpers/proftpd.js';
import { peerCliTests, peerClientTests, usePeer } from './peer-operations.js';

const skip = proftpdSkipReason();

describe(`FtpClient and ferry against ProFTPD (${proftpdVersion()})`, { skip }, () => {
  const peer = usePeer(() => startProftpd({ tls: true }));

  test('FEAT has MLST, EPSV, REST STREAM and AUTH TLS', () =>
    peer.withClient({}, async (client) => {
      assert.ok(client.features.has('MLST') && client.features.has('EPSV') && client.features.has('AUTH'), [...client.features.keys()].join(' '));
      assert.equal(client.features.get('REST'), 'STREAM');
    }));

  peerClientTests(peer, { requiresTlsReuse: true });
  peerCliTests(peer);
});
