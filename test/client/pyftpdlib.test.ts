/**
 * The client library against pyftpdlib (skipped where python3-pyftpdlib is missing): a
 * second, independent server with its own MLSD facts, ABOR handling and FTPS, through the
 * tests every peer gets (peer-operations.ts; the `ferry` binary is tested against the
 * other peers).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pyftpdlibSkipReason, startPyftpdlib } from '../helpers/pyftpdlib.js';
import { peerClientTests, usePeer } from './peer-operations.js';

const skip = pyftpdlibSkipReason({ tls: true });

describe('FtpClient against pyftpdlib', { skip }, () => {
  const peer = usePeer(() => startPyftpdlib({ tls: true }));

  test('FEAT has MLST (listings use MLSD)', () => peer.withClient({}, async (client) => assert.ok(client.features.has('MLST'))));

  peerClientTests(peer, { requiresTlsReuse: false });
});
