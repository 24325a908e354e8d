/**
 * What an eavesdropper on the control connection sees. A recording TCP proxy sits between
 * a real client and Ferry's control port and keeps every byte both ways; data connections
 * go straight to the server (the passive reply names the server's port).
 *
 * With TLS required, only the greeting, FEAT, AUTH and its 234 are in clear: no USER,
 * no PASS, no password. The contrast (mode "optional" and a plain client) shows exactly
 * what TLS protects: "PASS secret" in clear.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { assertExitOk, clientEnv, skipUnlessInstalled } from '../helpers/run-process.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { runFtpsCurl, runFtpsLftp, startRecordingProxy, withTlsServer, type RecordingProxy, type TlsTestServer } from './fixtures.js';

/** Runs `fn` with a recording proxy in front of the server's control port. */
async function withProxy(server: TlsTestServer, fn: (proxy: RecordingProxy) => Promise<void>): Promise<void> {
  const proxy = await startRecordingProxy({ host: server.host, port: server.port });
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}

function seed(server: TlsTestServer): { local: string; env: NodeJS.ProcessEnv } {
  writeFileSync(join(server.root, 'listed-file.bin'), ALL_BYTES);
  const local = join(server.scratch, 'client');
  mkdirSync(local, { recursive: true });
  return { local, env: clientEnv(server.scratch) };
}

/** Nothing secret in the captured control bytes, in either direction. */
function assertNothingLeaked(proxy: RecordingProxy): void {
  const up = proxy.fromClient().toString('latin1');
  const down = proxy.fromServer().toString('latin1');
  assert.ok(!up.includes(PASSWORD), 'the password crossed the wire in clear');
  assert.ok(!/PASS/i.test(up), 'a PASS command crossed the wire in clear');
  assert.ok(!up.includes(`USER ${USER}`), 'the user name crossed the wire in clear');
  assert.ok(down.includes('234 '), 'no 234 in clear: was TLS negotiated with AUTH?');
  assert.ok(!down.includes('230 ') && !down.includes('Login successful'), 'the login reply crossed the wire in clear');
  assert.ok(!down.includes('listed-file.bin'), 'listing text on the control connection in clear');
}

describe('the password never crosses the wire in clear when TLS is required', () => {
  test('curl --ssl-reqd: log in and list through a recording proxy', { skip: skipUnlessInstalled('curl') }, () =>
    withTlsServer({}, async (server) => {
      const { local, env } = seed(server);
      await withProxy(server, async (proxy) => {
        const run = await runFtpsCurl(['--ssl-reqd', `ftp://127.0.0.1:${proxy.port}/`], { cwd: local, env });
        assertExitOk('curl through the proxy', run);
        assert.match(run.stdout.toString('utf8'), /\slisted-file\.bin\r?$/m, 'the listing did not arrive');
        const up = proxy.fromClient().toString('latin1');
        // curl asks "AUTH SSL" first; Ferry accepts it (234), so that is what is in clear.
        assert.match(up, /^AUTH (SSL|TLS)\r\n/m, `no AUTH in clear: ${JSON.stringify(up.slice(0, 80))}`);
        assertNothingLeaked(proxy);
      });
    }),
  );

  test('lftp: log in, list and get through a recording proxy ("AUTH TLS" in clear, nothing else)', { skip: skipUnlessInstalled('lftp') }, () =>
    withTlsServer({}, async (server) => {
      const { local, env } = seed(server);
      await withProxy(server, async (proxy) => {
        const run = await runFtpsLftp(`ftp://127.0.0.1:${proxy.port}`, ['cls', 'get listed-file.bin -o got.bin'], { cwd: local, env });
        assertExitOk('lftp through the proxy', run);
        assert.match(run.stdout.toString('utf8'), /^listed-file\.bin$/m);
        assert.equal(sha256File(join(local, 'got.bin')), sha256(ALL_BYTES));
        const up = proxy.fromClient().toString('latin1');
        assert.ok(up.includes('AUTH TLS\r\n'), `no AUTH TLS in clear: ${JSON.stringify(up.slice(0, 80))}`);
        assertNothingLeaked(proxy);
      });
    }),
  );

  test('contrast: mode "optional" and a plain client: "USER alice" and "PASS secret" are in clear', { skip: skipUnlessInstalled('curl') }, () =>
    withTlsServer({ tls: { mode: 'optional' } }, async (server) => {
      const { local, env } = seed(server);
      await withProxy(server, async (proxy) => {
        const run = await runFtpsCurl([`ftp://127.0.0.1:${proxy.port}/`], { cwd: local, env });
        assertExitOk('plain curl through the proxy', run);
        const up = proxy.fromClient().toString('latin1');
        const down = proxy.fromServer().toString('latin1');
        assert.ok(!up.includes('AUTH'), 'the plain client used AUTH');
        assert.ok(up.includes(`USER ${USER}\r\n`));
        assert.ok(up.includes(`PASS ${PASSWORD}\r\n`), 'this is what TLS protects: the password in clear');
        assert.ok(down.includes('230 Login successful.'));
      });
    }),
  );
});
