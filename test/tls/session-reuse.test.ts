/**
 * Data-connection TLS session reuse (tls.session_reuse = true, the default): every way
 * real clients resume the control connection's session is accepted, and nothing else.
 *
 * - TLS 1.3 tickets used several times (Python, GnuTLS) and used once each (curl and
 *   other OpenSSL clients with a client session cache), which needs a fresh ticket from
 *   each resumed download or listing;
 * - TLS 1.2 session IDs (curl turns tickets off) and TLS 1.2 tickets;
 * - refused: another control connection's session, and the tickets a refused data
 *   connection's full handshake ends with (a thief at the passive port must not collect
 *   a ticket it can resume with next time);
 * - the first ticket reaches the client before the first reply, for clients that save
 *   their session right after the handshake (wget over implicit FTPS).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:crypto';
import { once } from 'node:events';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { waitFor, withTimeout } from '../helpers/timing.js';
import { FtpsClient, withTlsServer, type TlsTestServer } from './fixtures.js';

const TLS12: ConnectionOptions = { maxVersion: 'TLSv1.2' };
/** What curl does under TLS 1.2: no tickets, so resumption goes by session ID. */
const TLS12_SESSION_IDS: ConnectionOptions = { maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET };

/** An FTPS session (AUTH TLS, PROT P, logged in, binary) with `tlsOptions`, and a file f.bin. */
async function session(server: TlsTestServer, tlsOptions: ConnectionOptions = {}): Promise<FtpsClient> {
  writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    client.tlsOptions = tlsOptions;
    await client.authTls();
    await client.protect('P');
    await client.login();
    await client.expect('TYPE I', 200);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Runs `fn` on a fresh server with one such session, which is closed afterwards. */
function withSession(tlsOptions: ConnectionOptions, fn: (client: FtpsClient, server: TlsTestServer) => Promise<void>): Promise<void> {
  return withTlsServer({}, async (server) => {
    const client = await session(server, tlsOptions);
    try {
      await fn(client, server);
    } finally {
      client.close();
    }
  });
}

/** A resumed download of f.bin that must succeed byte-exact. */
async function resumedDownload(client: FtpsClient, what: string): Promise<void> {
  const got = await client.download('RETR f.bin', 'EPSV', 'resume');
  assert.equal(got.final.code, 226, `${what}: ${got.final.lines.join(' | ')}`);
  assert.equal(got.reused, true, `${what}: not resumed`);
  assert.equal(sha256(got.data), sha256(ALL_BYTES), what);
}

/** A resumed download that the reuse check must refuse. */
async function refusedDownload(client: FtpsClient, what: string): Promise<void> {
  const got = await client.download('RETR f.bin', 'EPSV', 'resume');
  assert.equal(got.final.code, 522, `${what}: ${got.final.lines.join(' | ')}`);
  assert.equal(got.data.length, 0, `${what}: bytes arrived on a refused data connection`);
}

describe('TLS 1.3 data-connection session reuse', () => {
  test('the control connection ticket resumes any number of data connections (Python, GnuTLS)', () =>
    withSession({}, async (client, server) => {
      for (let round = 1; round <= 3; round++) await resumedDownload(client, `round ${round}`);
      assert.equal((await client.upload('STOR up.bin', ALL_BYTES, 'EPSV', 'resume')).final.code, 226);
      assert.equal(sha256File(join(server.root, 'up.bin')), sha256(ALL_BYTES));
    }));

  test('each resumed download or listing issues a fresh ticket that resumes the next one (curl uses a ticket once)', () =>
    withSession({}, async (client) => {
      for (const command of ['RETR f.bin', 'LIST', 'NLST', 'MLSD', 'RETR f.bin']) {
        client.dataSession = undefined;
        const got = await client.download(command, 'EPSV', 'resume');
        assert.equal(got.final.code, 226, `${command}: ${got.final.lines.join(' | ')}`);
        assert.equal(got.reused, true, command);
        await waitFor(() => client.dataSession !== undefined, 3000).catch(() => assert.fail(`${command}: no fresh ticket on the data connection`));
        // Like curl: the next data connection resumes the newest ticket, never an older one.
        client.session = client.dataSession;
      }
      await resumedDownload(client, 'after the chain');
    }));

  test("an upload's data connection issues no ticket (its client never reads it; unread bytes turn its close into a reset)", () =>
    withSession({}, async (client, server) => {
      client.dataSession = undefined;
      const stored = await client.upload('STOR up.bin', ALL_BYTES, 'EPSV', 'resume');
      assert.equal(stored.final.code, 226, stored.final.lines.join(' | '));
      assert.equal(client.dataSession, undefined);
      assert.equal(sha256File(join(server.root, 'up.bin')), sha256(ALL_BYTES));
    }));

  test("the tickets a refused data connection receives resume nothing (a thief's full handshake gains no ticket)", () =>
    withSession({}, async (client) => {
      client.dataSession = undefined;
      const refused = await client.download('RETR f.bin', 'EPSV', 'fresh');
      assert.equal(refused.final.code, 522, refused.final.lines.join(' | '));
      await waitFor(() => client.dataSession !== undefined, 3000).catch(() => assert.fail('the full handshake delivered no ticket to try'));
      const own = client.session;
      client.session = client.dataSession;
      await refusedDownload(client, "the refused connection's ticket");
      client.session = own;
      await resumedDownload(client, 'the control ticket, afterwards');
    }));
});

describe('TLS 1.2 data-connection session reuse', () => {
  for (const [name, tlsOptions] of [
    ['session IDs (tickets off, as curl does)', TLS12_SESSION_IDS],
    ['session tickets', TLS12],
  ] as const) {
    describe(name, () => {
      test('downloads and uploads resume the control connection session', () =>
        withSession(tlsOptions, async (client, server) => {
          assert.equal((client.io as TLSSocket).getProtocol(), 'TLSv1.2');
          for (let round = 1; round <= 3; round++) await resumedDownload(client, `round ${round}`);
          const stored = await client.upload('STOR up.bin', ALL_BYTES, 'EPSV', 'resume');
          assert.equal(stored.final.code, 226, stored.final.lines.join(' | '));
          assert.equal(stored.reused, true);
          assert.equal(sha256File(join(server.root, 'up.bin')), sha256(ALL_BYTES));
        }));

      test("another control connection's session gets 522", () =>
        withTlsServer({}, async (server) => {
          const victim = await session(server, tlsOptions);
          const other = await session(server, tlsOptions);
          try {
            const own = other.session;
            other.session = victim.session;
            await refusedDownload(other, "the victim's session");
            other.session = own;
            await resumedDownload(other, 'its own session');
          } finally {
            victim.close();
            other.close();
          }
        }));
    });
  }
});

describe('session tickets come before the first reply', () => {
  test('implicit FTPS: the TLS 1.3 ticket arrives ahead of the 220 banner', () =>
    withTlsServer({}, async (server) => {
      assert.ok(server.implicitPort, 'no implicit listener');
      const order: string[] = [];
      const socket = tlsConnect({ host: server.host, port: server.implicitPort, rejectUnauthorized: false });
      socket.on('error', () => undefined);
      try {
        socket.on('session', () => order.push('ticket'));
        socket.on('data', () => order.push('reply'));
        await withTimeout(once(socket, 'secureConnect'), 5000, 'implicit TLS handshake');
        assert.equal(socket.getProtocol(), 'TLSv1.3');
        await waitFor(() => order.includes('reply') && order.includes('ticket'), 5000);
        assert.equal(order[0], 'ticket', `arrived in this order: ${order.join(', ')}`);
      } finally {
        socket.destroy();
      }
    }));
});
