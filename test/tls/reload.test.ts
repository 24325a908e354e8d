/**
 * Certificate reload (what SIGHUP triggers): FtpServer.reloadTls() re-reads tls.cert and
 * tls.key. New connections -- explicit and implicit -- get the new certificate; sessions
 * that are already open keep their TLS context (and so their data connections keep
 * resuming). A broken pair is refused and the last good certificate stays in use.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { certFingerprint, generateCertificate } from '../helpers/certificate.js';
import { ALL_BYTES, sha256 } from '../helpers/data.js';
import { FtpsClient, secureSession, withTlsServer, type TlsTestServer } from './fixtures.js';

function fingerprint(client: FtpsClient): string {
  const tls = client.tls;
  assert.ok(tls, 'control connection is not TLS');
  return tls.getPeerCertificate().fingerprint256;
}

async function explicitFingerprint(server: TlsTestServer): Promise<string> {
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    await client.authTls();
    return fingerprint(client);
  } finally {
    client.close();
  }
}

async function implicitFingerprint(server: TlsTestServer): Promise<string> {
  const client = await FtpsClient.connectImplicit(server.host, server.implicitPort!);
  try {
    return fingerprint(client);
  } finally {
    client.close();
  }
}

describe('certificate reload', () => {
  test('new connections see the new certificate; an open session keeps working', () =>
    withTlsServer({}, async (server) => {
      const { cert, key } = server.certificate!;
      writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
      const before = certFingerprint(cert);
      const open = await secureSession(server);
      try {
        await open.expect('TYPE I', 200);
        assert.equal(fingerprint(open), before);
        assert.equal(await explicitFingerprint(server), before);

        // Overwrite the files with a new pair, then reload.
        const fresh = generateCertificate(join(server.scratch, 'new-cert'), 'localhost');
        copyFileSync(fresh.cert, cert);
        copyFileSync(fresh.key, key);
        const after = certFingerprint(cert);
        assert.notEqual(after, before);
        // Not re-read until asked.
        assert.equal(await explicitFingerprint(server), before);
        // What the SIGHUP log line says: which certificate is now in use, and that it changed.
        const [reloaded] = server.server.reloadTls();
        assert.equal(reloaded!.site, 'default');
        assert.equal(reloaded!.changed, true);
        assert.equal(reloaded!.fingerprint256, after);
        assert.match(reloaded!.subject, /CN=localhost/);
        assert.ok(!Number.isNaN(Date.parse(reloaded!.validTo)), reloaded!.validTo);
        // The same files again: reloaded, not changed.
        assert.equal(server.server.reloadTls()[0]!.changed, false);

        assert.equal(await explicitFingerprint(server), after, 'explicit FTPS still presents the old certificate');
        assert.equal(await implicitFingerprint(server), after, 'implicit FTPS still presents the old certificate');

        // The session opened before the reload: control and data connections still work.
        await open.expect('NOOP', 200);
        assert.equal(fingerprint(open), before);
        for (const mode of ['EPSV', 'PORT'] as const) {
          const got = await open.download('RETR f.bin', mode);
          assert.equal(got.final.code, 226, got.final.lines.join(' | '));
          assert.equal(got.reused, true);
          assert.equal(sha256(got.data), sha256(ALL_BYTES));
        }
        // A new session on the new certificate transfers too.
        const next = await secureSession(server);
        try {
          await next.expect('TYPE I', 200);
          assert.equal(fingerprint(next), after);
          assert.equal((await next.download('RETR f.bin')).final.code, 226);
        } finally {
          next.close();
        }
      } finally {
        open.close();
      }
    }));

  test('a broken or mismatched pair is refused with a ConfigError and the last good certificate stays', () =>
    withTlsServer({}, async (server) => {
      const { cert, key } = server.certificate!;
      const good = certFingerprint(cert);
      const goodCert = join(server.scratch, 'good-cert.pem');
      const goodKey = join(server.scratch, 'good-key.pem');
      copyFileSync(cert, goodCert);
      copyFileSync(key, goodKey);

      // 1. Not a certificate at all.
      writeFileSync(cert, 'not a certificate\n');
      assert.throws(() => server.server.reloadTls(), ConfigError);
      assert.equal(await explicitFingerprint(server), good);

      // 2. A valid certificate with the key of another pair.
      const other = generateCertificate(join(server.scratch, 'other'), 'localhost');
      copyFileSync(other.cert, cert);
      copyFileSync(goodKey, key);
      assert.throws(() => server.server.reloadTls(), ConfigError);
      assert.equal(await explicitFingerprint(server), good);
      assert.equal(await implicitFingerprint(server), good);

      // 3. A missing key file.
      copyFileSync(goodCert, cert);
      rmSync(key);
      assert.throws(() => server.server.reloadTls(), (error: unknown) => error instanceof ConfigError && /cannot read/.test(error.message));
      assert.equal(await explicitFingerprint(server), good);

      // Restored: the reload goes through, and sessions work.
      copyFileSync(goodKey, key);
      server.server.reloadTls();
      const session = await secureSession(server);
      try {
        assert.equal(fingerprint(session), good);
      } finally {
        session.close();
      }
    }));
});
