/**
 * Explicit FTPS (RFC 4217) at the protocol level, with a raw client: AUTH TLS and its
 * refusals, PBSZ/PROT/CCC, FEAT, PROT P transfers in all four data-connection modes,
 * and the data-connection session-reuse rule (vsftpd's require_ssl_reuse).
 *
 * The raw client upgrades its control socket with node:tls `connect({ socket })` after
 * the 234, and wraps each data socket with `connect({ socket, session })`, resuming the
 * control connection's TLS session (TLS 1.3 tickets arrive after the handshake, so the
 * client waits for the first 'session' event). The FTP client is always the TLS client,
 * also in active mode where the server opens the TCP connection (RFC 4217 section 7).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { DATA_MODES } from '../helpers/ftp-connection.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { sleep } from '../helpers/timing.js';
import { FtpsClient, secureSession, startTlsServer, withTlsServer, type TlsTestServer } from './fixtures.js';

const REUSE_TEXT = /session reuse required/;

/** The FEAT feature lines, trimmed (without the 211 framing lines). */
async function featLines(client: FtpsClient): Promise<string[]> {
  const reply = await client.expect('FEAT', 211);
  return reply.lines.slice(1, -1).map((line) => line.trim());
}

describe('AUTH', () => {
  test('AUTH TLS: 234, then a TLS handshake, and the dialogue continues over TLS', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        assert.equal(client.greeting.code, 220);
        const reply = await client.authTls();
        assert.equal(reply.code, 234);
        assert.equal(reply.text, 'AUTH TLS ok: proceed with TLS negotiation.');
        const tls = client.tls!;
        assert.ok(tls.encrypted);
        assert.match(tls.getProtocol() ?? '', /^TLSv1\.[23]$/);
        // The server presents our certificate.
        assert.equal(tls.getPeerCertificate().subject.CN, 'localhost');
        await client.expect('NOOP', 200);
        await client.login();
        await client.expect('PWD', 257);
        await client.quit();
      } finally {
        client.close();
      }
    }));

  test('AUTH SSL and AUTH TLS-C are accepted as aliases, in any case', () =>
    withTlsServer({}, async (server) => {
      for (const mechanism of ['SSL', 'TLS-C', 'tls', 'ssl']) {
        const client = await FtpsClient.connect(server.host, server.port);
        try {
          const reply = await client.authTls(mechanism);
          assert.equal(reply.text, `AUTH ${mechanism.toUpperCase()} ok: proceed with TLS negotiation.`);
          assert.ok(client.tls?.encrypted, `AUTH ${mechanism}: control connection not encrypted`);
          await client.login();
        } finally {
          client.close();
        }
      }
    }));

  test('AUTH with an unknown mechanism: 504, the connection stays plain and usable', () =>
    withTlsServer({ tls: { mode: 'optional' } }, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        const reply = await client.send('AUTH GSSAPI');
        assert.equal(reply.code, 504);
        assert.match(reply.text, /AUTH GSSAPI is not supported; use AUTH TLS/);
        assert.equal((await client.send('AUTH KERBEROS_V4')).code, 504);
        assert.equal((await client.send('AUTH')).code, 501);
        assert.equal(client.tls, null);
        await client.expect('NOOP', 200);
        // A later AUTH TLS still works.
        await client.authTls();
        await client.login();
      } finally {
        client.close();
      }
    }));

  test('AUTH when the control connection is already secure: 503', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        const reply = await client.send('AUTH TLS');
        assert.equal(reply.code, 503);
        assert.equal(reply.text, 'The control connection is already protected by TLS.');
        // Still the same working TLS connection.
        await client.login();
      } finally {
        client.close();
      }
    }));

  test('AUTH on a server without TLS: 502, and FEAT advertises no AUTH/PBSZ/PROT', () =>
    withTlsServer(
      {},
      async (server) => {
        assert.equal(server.implicitPort, null, 'no implicit listener without TLS');
        const client = await FtpsClient.connect(server.host, server.port);
        try {
          const reply = await client.send('AUTH TLS');
          assert.equal(reply.code, 502);
          assert.equal(reply.text, 'TLS is not configured on this server.');
          const features = await featLines(client);
          for (const feature of ['AUTH TLS', 'PBSZ', 'PROT']) assert.ok(!features.includes(feature), `FEAT lists ${feature}: ${features.join(', ')}`);
          // PBSZ/PROT need a protected control connection, which cannot exist here.
          assert.equal((await client.send('PBSZ 0')).code, 503);
          await client.login();
          await client.expect('NOOP', 200);
        } finally {
          client.close();
        }
      },
      { tls: false },
    ));

  test('FEAT lists AUTH TLS, PBSZ and PROT when TLS is configured (before and after AUTH)', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        for (const stage of ['before AUTH', 'after AUTH']) {
          const features = await featLines(client);
          for (const feature of ['AUTH TLS', 'PBSZ', 'PROT']) assert.ok(features.includes(feature), `${stage}: FEAT lacks ${feature}: ${features.join(', ')}`);
          if (stage === 'before AUTH') await client.authTls();
        }
      } finally {
        client.close();
      }
    }));

  /*
   * STARTTLS command injection (the CVE-2011-0411 class, RFC 4217 section 4 / RFC 3207
   * section 6 advice): anything the client sent in clear after "AUTH TLS" must be thrown
   * away, or a man in the middle can inject commands that the server then runs as if they
   * had come over the protected connection.
   */
  test(
    'commands pipelined in clear text behind AUTH TLS are discarded, not run after the handshake',
    () =>
      withTlsServer({}, async (server) => {
        const client = await FtpsClient.connect(server.host, server.port);
        try {
          client.writeRaw(`AUTH TLS\r\nUSER ${USER}\r\n`);
          assert.equal((await client.read()).code, 234);
          await client.startTls();
          // The injected USER must be gone: PASS has no pending user.
          const reply = await client.send(`PASS ${PASSWORD}`);
          assert.equal(reply.code, 503, `injected USER was honoured: ${reply.lines.join(' | ')}`);
          await assert.rejects(client.read(500), /timed out/, 'an extra reply arrived (from the injected command)');
        } finally {
          client.close();
        }
      }),
  );

  test(
    'a partial command line sent in clear before the handshake is not joined with TLS bytes',
    () =>
      withTlsServer({}, async (server) => {
        const client = await FtpsClient.connect(server.host, server.port);
        try {
          client.writeRaw('AUTH TLS\r\nNOO');
          assert.equal((await client.read()).code, 234);
          await client.startTls();
          const reply = await client.send('P');
          assert.equal(reply.code, 500, `clear-text fragment was joined: ${reply.lines.join(' | ')}`);
        } finally {
          client.close();
        }
      }),
  );
});

describe('PBSZ, PROT, CCC', () => {
  test('PBSZ and PROT before AUTH: 503', () =>
    withTlsServer({ tls: { mode: 'optional' } }, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        const pbsz = await client.send('PBSZ 0');
        assert.equal(pbsz.code, 503);
        assert.equal(pbsz.text, 'PBSZ needs a protected control connection: send AUTH TLS first.');
        assert.equal((await client.send('PROT P')).code, 503);
        // Also after a plain login (mode optional): still no PBSZ without TLS.
        await client.login();
        assert.equal((await client.send('PBSZ 0')).code, 503);
      } finally {
        client.close();
      }
    }));

  test('PROT before PBSZ: 503; PBSZ 0: "200 PBSZ=0"; any size answers PBSZ=0; a bad size is 501', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        const early = await client.send('PROT P');
        assert.equal(early.code, 503);
        assert.equal(early.text, 'Send PBSZ 0 before PROT.');
        assert.deepEqual((await client.send('PBSZ 0')).lines, ['200 PBSZ=0']);
        // RFC 4217 section 8: the server answers with the size it uses, which is 0 for TLS.
        assert.deepEqual((await client.send('PBSZ 1024')).lines, ['200 PBSZ=0']);
        assert.equal((await client.send('PBSZ abc')).code, 501);
        assert.equal((await client.send('PBSZ')).code, 501);
      } finally {
        client.close();
      }
    }));

  test('PROT P and C: 200; S and E: 536; anything else: 504; no argument: 501', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        await client.expect('PBSZ 0', 200);
        assert.equal((await client.expect('PROT P', 200)).text, 'Protection level set to P (private): data connections use TLS.');
        assert.equal((await client.expect('PROT C', 200)).text, 'Protection level set to C (clear).');
        assert.equal((await client.expect('prot p', 200)).code, 200);
        for (const level of ['S', 'E']) {
          const reply = await client.send(`PROT ${level}`);
          assert.equal(reply.code, 536);
          assert.match(reply.text, /not supported with TLS; use P or C/);
        }
        assert.equal((await client.send('PROT X')).code, 504);
        assert.equal((await client.send('PROT')).code, 501);
      } finally {
        client.close();
      }
    }));

  test('CCC: 530 before login, 534 after; the control connection stays encrypted', () =>
    withTlsServer({}, async (server) => {
      const client = await FtpsClient.connect(server.host, server.port);
      try {
        await client.authTls();
        assert.equal((await client.send('CCC')).code, 530);
        await client.login();
        const reply = await client.send('CCC');
        assert.equal(reply.code, 534);
        assert.equal(reply.text, 'CCC refused: the control connection stays encrypted.');
        await client.expect('NOOP', 200);
        assert.ok(client.tls?.encrypted);
      } finally {
        client.close();
      }
    }));
});

describe('PROT P transfers in every data-connection mode', () => {
  let server: TlsTestServer;
  before(async () => {
    server = await startTlsServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const mode of DATA_MODES) {
    test(`${mode}: RETR, STOR, APPE, LIST, NLST, MLSD are byte-exact over TLS`, async () => {
      const dir = `dir-${mode}`;
      const client = await secureSession(server);
      try {
        await client.expect(`MKD ${dir}`, 257);
        await client.expect(`CWD ${dir}`, 250);
        await client.expect('TYPE I', 200);
        const big = randomData().subarray(0, 1024 * 1024 + 17);

        // STOR: byte-exact on disk.
        const stored = await client.upload('STOR all.bin', ALL_BYTES, mode);
        assert.equal(stored.dataError, undefined);
        assert.equal(stored.reused, true, 'the data connection resumed the control session');
        assert.equal(stored.final.code, 226, stored.final.lines.join(' | '));
        assert.equal(sha256File(join(server.root, dir, 'all.bin')), sha256(ALL_BYTES));
        assert.equal((await client.upload('STOR big.bin', big, mode)).final.code, 226);
        assert.equal(sha256File(join(server.root, dir, 'big.bin')), sha256(big));

        // RETR: byte-exact back.
        for (const [name, content] of [['all.bin', ALL_BYTES], ['big.bin', big]] as const) {
          const got = await client.download(`RETR ${name}`, mode);
          assert.equal(got.final.code, 226, got.final.lines.join(' | '));
          assert.equal(got.data.length, content.length);
          assert.equal(sha256(got.data), sha256(content), `RETR ${name} in ${mode}`);
        }

        // APPE: appends on disk.
        const tail = Buffer.from([0, 255, 13, 10, 26, 0]);
        assert.equal((await client.upload('APPE all.bin', tail, mode)).final.code, 226);
        assert.equal(sha256File(join(server.root, dir, 'all.bin')), sha256(Buffer.concat([ALL_BYTES, tail])));

        // Listings.
        const list = await client.download('LIST', mode);
        assert.equal(list.final.code, 226);
        const listText = list.data.toString('utf8');
        assert.match(listText, new RegExp(`^-\\S+\\s+\\d+\\s+\\S+\\s+\\S+\\s+${ALL_BYTES.length + tail.length}\\s.*\\sall\\.bin\\r$`, 'm'));
        assert.match(listText, new RegExp(`\\s${big.length}\\s.*\\sbig\\.bin\\r$`, 'm'));

        const nlst = await client.download('NLST', mode);
        assert.equal(nlst.final.code, 226);
        assert.deepEqual(nlst.data.toString('utf8').split('\r\n').filter(Boolean).sort(), ['all.bin', 'big.bin']);

        const mlsd = await client.download('MLSD', mode);
        assert.equal(mlsd.final.code, 226);
        const facts = new Map(
          mlsd.data
            .toString('utf8')
            .split('\r\n')
            .filter(Boolean)
            .map((line) => [line.slice(line.indexOf(' ') + 1), line.slice(0, line.indexOf(' ')).toLowerCase()] as const),
        );
        assert.match(facts.get('all.bin') ?? '', new RegExp(`(^|;)type=file;`));
        assert.match(facts.get('all.bin') ?? '', new RegExp(`(^|;)size=${ALL_BYTES.length + tail.length};`));
        assert.match(facts.get('big.bin') ?? '', new RegExp(`(^|;)size=${big.length};`));
        await client.quit();
      } finally {
        client.close();
      }
    });
  }
});

describe('data-connection TLS session reuse', () => {
  /** A session with a file "f.bin" to download, in binary mode. */
  async function ready(server: TlsTestServer): Promise<FtpsClient> {
    writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
    const client = await secureSession(server);
    await client.expect('TYPE I', 200);
    return client;
  }

  test('session_reuse on (default): a fresh TLS handshake gets 522 and moves nothing; resuming works', () =>
    withTlsServer({}, async (server) => {
      assert.equal(server.config.tls.session_reuse, true);
      const client = await ready(server);
      try {
        for (const mode of DATA_MODES) {
          const refused = await client.download('RETR f.bin', mode, 'fresh');
          assert.equal(refused.final.code, 522, `${mode}: ${refused.final.lines.join(' | ')}`);
          assert.match(refused.final.text, REUSE_TEXT);
          assert.equal(refused.reused, false);
          assert.equal(refused.data.length, 0, `${mode}: bytes arrived on a refused data connection`);

          const upload = await client.upload(`STOR up-${mode}.bin`, ALL_BYTES, mode, 'fresh');
          assert.equal(upload.final.code, 522, `${mode}: ${upload.final.lines.join(' | ')}`);
          assert.ok(!existsSync(join(server.root, `up-${mode}.bin`)), `${mode}: a refused upload left a file`);

          // The same transfers resuming the control session succeed on the same control connection.
          const ok = await client.download('RETR f.bin', mode, 'resume');
          assert.equal(ok.final.code, 226);
          assert.equal(ok.reused, true);
          assert.equal(sha256(ok.data), sha256(ALL_BYTES));
          assert.equal((await client.upload(`STOR up-${mode}.bin`, ALL_BYTES, mode, 'resume')).final.code, 226);
          assert.equal(sha256File(join(server.root, `up-${mode}.bin`)), sha256(ALL_BYTES));
        }
        // Nothing half-written was left behind by the refused uploads.
        assert.deepEqual(readdirSync(server.root).sort(), ['f.bin', ...DATA_MODES.map((mode) => `up-${mode}.bin`)].sort());
      } finally {
        client.close();
      }
    }));

  test("session_reuse on: resuming another control connection's session gets 522", () =>
    withTlsServer({}, async (server) => {
      const victim = await ready(server);
      const other = await ready(server);
      try {
        // Each control connection has its own ticket keys: a session issued to `victim`
        // does not resume on `other`'s data connection.
        const own = other.session;
        other.session = victim.session;
        const refused = await other.download('RETR f.bin', 'EPSV', 'resume');
        assert.equal(refused.final.code, 522, refused.final.lines.join(' | '));
        assert.equal(refused.data.length, 0);
        other.session = own;
        assert.equal((await other.download('RETR f.bin', 'EPSV', 'resume')).final.code, 226);
      } finally {
        victim.close();
        other.close();
      }
    }));

  test('session_reuse off: a fresh TLS handshake on the data connection works (and resuming too)', () =>
    withTlsServer({ tls: { session_reuse: false } }, async (server) => {
      const client = await ready(server);
      try {
        for (const mode of DATA_MODES) {
          for (const how of ['fresh', 'resume'] as const) {
            const got = await client.download('RETR f.bin', mode, how);
            assert.equal(got.final.code, 226, `${mode} ${how}: ${got.final.lines.join(' | ')}`);
            assert.equal(sha256(got.data), sha256(ALL_BYTES));
            const name = `up-${mode}-${how}.bin`;
            assert.equal((await client.upload(`STOR ${name}`, ALL_BYTES, mode, how)).final.code, 226);
            assert.deepEqual(readFileSync(join(server.root, name)), ALL_BYTES);
          }
        }
      } finally {
        client.close();
      }
    }));

  test('PROT P but the client never starts TLS on the data connection: 425 after the handshake timeout, session still usable', () =>
    withTlsServer({ tls: { handshake_timeout: 1 } }, async (server) => {
      const client = await ready(server);
      try {
        for (const mode of ['EPSV', 'PORT'] as const) {
          const started = Date.now();
          const got = await client.download('RETR f.bin', mode, 'clear');
          assert.equal(got.final.code, 425, got.final.lines.join(' | '));
          assert.match(got.final.text, /TLS negotiation failed/);
          assert.equal(got.data.length, 0, 'file bytes went out in clear under PROT P');
          assert.ok(Date.now() - started < 5000, 'the handshake timeout was not applied');
        }
        assert.equal((await client.download('RETR f.bin', 'EPSV')).final.code, 226);
      } finally {
        client.close();
      }
    }));
});

describe('ABOR during a PROT P transfer', () => {
  test('a stalled TLS download is aborted (426 then 226) and the session stays usable', () =>
    withTlsServer({}, async (server) => {
      const big = Buffer.concat([randomData(), randomData(), randomData(), randomData()]);
      writeFileSync(join(server.root, 'big.bin'), big);
      writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
      const client = await secureSession(server);
      try {
        await client.expect('TYPE I', 200);
        for (const mode of ['EPSV', 'PORT'] as const) {
          const dataSocket = await client.prepareData(mode);
          assert.equal((await client.send('RETR big.bin')).code, 150);
          const secure = await client.secureData(await dataSocket(), 'resume');
          // Read nothing: the server blocks on backpressure with most of the file unsent.
          secure.pause();
          await sleep(200);
          client.writeRaw('ABOR\r\n');
          assert.deepEqual((await client.read()).lines, ['426 Transfer aborted.']);
          assert.deepEqual((await client.read()).lines, ['226 Abort successful.']);
          assert.ok(secure.bytesRead < big.length, 'the whole file went out before ABOR');
          secure.destroy();
          const after = await client.download('RETR f.bin', mode);
          assert.equal(after.final.code, 226);
          assert.equal(sha256(after.data), sha256(ALL_BYTES));
        }
      } finally {
        client.close();
      }
    }));
});
