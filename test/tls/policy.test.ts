/**
 * TLS policies (tls.mode and the per-user `tls` key of the users file):
 *
 *   off       no TLS at all, even with a certificate configured (AUTH -> 502)
 *   optional  plain FTP and FTPS both work
 *   login     credentials only over TLS (vsftpd force_local_logins_ssl); clear data allowed
 *   required  login and data over TLS (force_local_data_ssl too); the default with a cert
 *
 * Anonymous users are exempt (they have no password to protect).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { effectiveTlsMode } from '../../src/config/schema.js';
import { ALL_BYTES, sha256 } from '../helpers/data.js';
import { PASSWORD, READONLY_USER, USER } from '../helpers/server.js';
import { FtpsClient, withTlsServer, type TlsTestServer } from './fixtures.js';

const TLS_REQUIRED_TEXT = /^TLS required: send AUTH TLS before logging in/;
const DATA_PROTECTION_TEXT = 'Data connections must be encrypted: send PBSZ 0 and PROT P.';

function seed(server: TlsTestServer): void {
  writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
}

/** Logs in over plain FTP; returns the client (throws unless 230). */
async function plainLogin(server: TlsTestServer, user = USER): Promise<FtpsClient> {
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    await client.login(user, PASSWORD);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/** RETR f.bin in binary mode with the given data protection; returns the final reply code. */
async function fetch(client: FtpsClient, how: 'resume' | 'clear'): Promise<number> {
  await client.expect('TYPE I', 200);
  const got = await client.download('RETR f.bin', 'EPSV', how);
  if (got.final.code === 226) assert.equal(sha256(got.data), sha256(ALL_BYTES));
  return got.final.code;
}

/** USER before AUTH TLS is refused with a 530 that explains why; nothing else changes. */
async function assertLoginNeedsTls(server: TlsTestServer, user: string): Promise<void> {
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    const reply = await client.send(`USER ${user}`);
    assert.equal(reply.code, 530, `USER ${user} in clear: ${reply.lines.join(' | ')}`);
    assert.match(reply.text, TLS_REQUIRED_TEXT);
    // No user is pending, so a PASS in clear is out of sequence (and never checked).
    assert.equal((await client.send(`PASS ${PASSWORD}`)).code, 503);
    // The same connection can still upgrade and log in.
    await client.authTls();
    await client.login(user, PASSWORD);
  } finally {
    client.close();
  }
}

describe('tls.mode "required" (the default when a certificate is set)', () => {
  test('the effective mode is "required" when only cert and key are given', () =>
    withTlsServer({}, async (server) => {
      assert.equal(server.config.tls.mode, undefined);
      assert.equal(effectiveTlsMode(server.config), 'required');
    }));

  test('USER before AUTH TLS: 530 saying TLS is required (for every local user)', () =>
    withTlsServer({}, async (server) => {
      await assertLoginNeedsTls(server, USER);
      await assertLoginNeedsTls(server, READONLY_USER);
      // Even unknown names get the TLS answer, so it does not reveal which users exist.
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        const reply = await client.send('USER nobody-here');
        assert.equal(reply.code, 530);
        assert.match(reply.text, TLS_REQUIRED_TEXT);
      } finally {
        client.close();
      }
    }));

  test('TLS refusals do not count as failed logins (the connection is not closed)', () =>
    withTlsServer({ max_login_failures: 2 }, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        for (let i = 0; i < 4; i++) assert.equal((await client.send(`USER ${USER}`)).code, 530);
        await client.authTls();
        await client.login();
      } finally {
        client.close();
      }
    }));

  test('after AUTH TLS but without PROT P, data commands get 521 (before any 150)', () =>
    withTlsServer({}, async (server) => {
      seed(server);
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        await client.login();
        // No PBSZ/PROT at all: the protection level is C.
        for (const command of ['RETR f.bin', 'LIST', 'NLST', 'MLSD', 'STOR x.bin', 'APPE x.bin', 'STOU']) {
          const reply = await client.send(command);
          assert.equal(reply.code, 521, `${command}: ${reply.lines.join(' | ')}`);
          assert.equal(reply.text, DATA_PROTECTION_TEXT);
        }
        // An explicit PROT C is refused the same way.
        await client.protect('C');
        assert.equal((await client.send('RETR f.bin')).code, 521);
        assert.equal((await client.send('LIST')).code, 521);
        // Commands without a data connection are unaffected.
        await client.expect('SIZE f.bin', 213);
        // PROT P makes it work.
        await client.expect('PROT P', 200);
        assert.equal(await fetch(client, 'resume'), 226);
      } finally {
        client.close();
      }
    }));

  test('anonymous users may log in and transfer without TLS', () =>
    withTlsServer({ anonymous: { enabled: true } }, async (server) => {
      writeFileSync(join(server.anonymousRoot, 'pub.txt'), 'public\n');
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.expect('USER anonymous', 331);
        await client.expect('PASS guest@example.com', 230);
        const list = await client.download('NLST', 'EPSV', 'clear');
        assert.equal(list.final.code, 226);
        assert.deepEqual(list.data.toString().split('\r\n').filter(Boolean), ['pub.txt']);
        // ...while local users on the same server still need TLS.
        await assertLoginNeedsTls(server, USER);
      } finally {
        client.close();
      }
    }));
});

describe('tls.mode "login"', () => {
  test('login needs TLS; data in clear (PROT C) is allowed, and PROT P works too', () =>
    withTlsServer({ tls: { mode: 'login' } }, async (server) => {
      seed(server);
      await assertLoginNeedsTls(server, USER);
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        await client.login();
        assert.equal(await fetch(client, 'clear'), 226, 'no PROT: clear data');
        await client.protect('C');
        assert.equal(await fetch(client, 'clear'), 226, 'PROT C: clear data');
        await client.expect('PROT P', 200);
        assert.equal(await fetch(client, 'resume'), 226, 'PROT P: TLS data');
      } finally {
        client.close();
      }
    }));
});

describe('tls.mode "optional"', () => {
  test('plain FTP login and clear data work', () =>
    withTlsServer({ tls: { mode: 'optional' } }, async (server) => {
      seed(server);
      const client = await plainLogin(server);
      try {
        assert.equal(await fetch(client, 'clear'), 226);
      } finally {
        client.close();
      }
    }));

  test('FTPS works too: AUTH TLS, PROT P transfers; PROT C after AUTH is allowed', () =>
    withTlsServer({ tls: { mode: 'optional' } }, async (server) => {
      seed(server);
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        await client.protect('P');
        await client.login();
        assert.equal(await fetch(client, 'resume'), 226);
        await client.expect('PROT C', 200);
        assert.equal(await fetch(client, 'clear'), 226);
      } finally {
        client.close();
      }
    }));
});

describe('tls.mode "off" with a certificate configured', () => {
  test('AUTH TLS: 502, FEAT has no AUTH TLS, no implicit listener, plain login works', () =>
    withTlsServer({ tls: { mode: 'off' } }, async (server) => {
      assert.equal(server.implicitPort, null);
      seed(server);
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        const reply = await client.send('AUTH TLS');
        assert.equal(reply.code, 502);
        const feat = await client.expect('FEAT', 211);
        assert.ok(!feat.lines.some((line) => /^\s*(AUTH TLS|PBSZ|PROT)\s*$/.test(line)), feat.lines.join(' | '));
        await client.login();
        assert.equal(await fetch(client, 'clear'), 226);
      } finally {
        client.close();
      }
    }));
});

describe('per-user tls override (users file key "tls")', () => {
  const users = {
    carol: { tls: 'required' as const },
    dave: { tls: 'login' as const },
    erin: { tls: 'optional' as const },
  };

  test('server "optional", carol "required": carol is refused without TLS, alice is not', () =>
    withTlsServer(
      { tls: { mode: 'optional' } },
      async (server) => {
        seed(server);
        await assertLoginNeedsTls(server, 'carol');
        const alice = await plainLogin(server);
        alice.close();

        const carol = await FtpsClient.connect(server.host, server.port);
        try {
          await carol.authTls();
          await carol.login('carol', PASSWORD);
          // carol's data must be protected too.
          const refused = await carol.send('RETR f.bin');
          assert.equal(refused.code, 521);
          await carol.protect('P');
          assert.equal(await fetch(carol, 'resume'), 226);
        } finally {
          carol.close();
        }
      },
      { users },
    ));

  test('server "optional", dave "login": TLS to log in, clear data allowed', () =>
    withTlsServer(
      { tls: { mode: 'optional' } },
      async (server) => {
        seed(server);
        await assertLoginNeedsTls(server, 'dave');
        const dave = await FtpsClient.connect(server.host, server.port);
        try {
          await dave.authTls();
          await dave.login('dave', PASSWORD);
          assert.equal(await fetch(dave, 'clear'), 226);
        } finally {
          dave.close();
        }
      },
      { users },
    ));

  test('server "required", erin "optional": the override also relaxes (erin logs in plain, alice cannot)', () =>
    withTlsServer(
      {},
      async (server) => {
        seed(server);
        const erin = await plainLogin(server, 'erin');
        try {
          assert.equal(await fetch(erin, 'clear'), 226);
        } finally {
          erin.close();
        }
        await assertLoginNeedsTls(server, USER);
      },
      { users },
    ));
});
