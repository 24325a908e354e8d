/**
 * Interoperability with rclone (Debian's 1.60; Go crypto/tls) over explicit FTPS
 * (explicit_tls=true: AUTH TLS on the control port) and implicit FTPS (tls=true on the
 * implicit port), against the default server: tls.session_reuse on. rclone runs with an
 * on-the-fly remote, so no config file is involved.
 *
 * Known facts encoded here:
 * - rclone resumes TLS sessions on its data connections from a client session cache
 *   (tls_cache_size, default 32), which satisfies Ferry's reuse check, for TLS 1.3 and
 *   for TLS 1.2 (disable_tls13=true).
 * - rclone before 1.64 shares that one cache among all the control connections of a
 *   remote (rclone issue #7234, fixed in 1.64): Go keys cached sessions by server name,
 *   so with several control connections (rclone's default --checkers 8, --transfers 4)
 *   a data connection presents whichever control connection's ticket arrived last.
 *   Ferry only resumes sessions of the data connection's own control connection (as
 *   FileZilla Server does), so that data connection gets 522, and the run fails. One
 *   control connection per remote (concurrency=1) works on every version, and is what
 *   these tests use.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomData, treeHashes, writeTestTree } from '../helpers/data.js';
import { rcloneFtpRemote, rcloneObscure, runRclone } from '../helpers/rclone.js';
import { assertExitOk, clientEnv, skipUnlessInstalled, type DialogueRun } from '../helpers/run-process.js';
import { PASSWORD, USER } from '../helpers/server.js';
import type { ServerLog } from '../helpers/server-log.js';
import { assertDataConnectionsResumed, assertFtpsDialogue, CLIENT_TIMEOUT_MS, withLoggedTlsServer, type TlsTestServer } from './fixtures.js';

interface Mode {
  name: string;
  /** The control connection starts in clear and upgrades with AUTH TLS (else TLS comes first). */
  explicit: boolean;
  /** The remote's TLS option. */
  option: 'explicit_tls' | 'tls';
  port(server: TlsTestServer): number;
}

const EXPLICIT: Mode = { name: 'explicit FTPS (explicit_tls=true)', explicit: true, option: 'explicit_tls', port: (server) => server.port };
const IMPLICIT: Mode = { name: 'implicit FTPS (tls=true)', explicit: false, option: 'tls', port: (server) => server.implicitPort! };

/** One run's settings: remote options over the mode's, and the TLS version the server must see. */
interface Variant {
  name: string;
  options: Record<string, string | number | boolean>;
  tlsVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** One control connection per remote: what rclone before 1.64 needs (see the header). */
const ONE_CONNECTION: Variant = { name: 'concurrency=1', options: { concurrency: 1 }, tlsVersion: 'TLSv1.3' };
const ONE_CONNECTION_TLS12: Variant = { name: 'concurrency=1, disable_tls13=true', options: { concurrency: 1, disable_tls13: true }, tlsVersion: 'TLSv1.2' };

/**
 * copy up, lsf -R and lsjson -R, copy back down (empty folders too): both copies
 * byte-exact, the listings complete, every rclone run's data connections resumed.
 */
async function roundTrip(server: TlsTestServer, log: ServerLog, mode: Mode, variant: Variant): Promise<void> {
  const remote = rcloneFtpRemote({
    host: server.host,
    port: mode.port(server),
    user: USER,
    pass: await rcloneObscure(PASSWORD),
    [mode.option]: true,
    no_check_certificate: true,
    ...variant.options,
  });
  const env = clientEnv(server.scratch);
  const rclone = async (what: string, args: readonly string[]): Promise<DialogueRun> => {
    const described = `rclone ${what} (${mode.name}, ${variant.name})`;
    const from = log.mark();
    const run = await runRclone(args, { cwd: server.scratch, env, timeoutMs: CLIENT_TIMEOUT_MS });
    assertExitOk(described, run);
    assertFtpsDialogue(described, run, mode.explicit);
    assertDataConnectionsResumed(described, server, log, from, run.received, variant.tlsVersion);
    return run;
  };

  const source = join(server.scratch, 'source');
  writeTestTree(source);
  writeFileSync(join(source, 'random-5MiB.bin'), randomData());
  const expected = treeHashes(source);
  await rclone('copy up', ['copy', '--create-empty-src-dirs', source, `${remote}tree`]);
  assert.deepEqual(treeHashes(join(server.root, 'tree')), expected);

  const names = await rclone('lsf -R', ['lsf', '-R', `${remote}tree`]);
  // lsf marks folders with a trailing "/".
  const expectedNames = Object.entries(expected).map(([path, hash]) => (hash === 'dir' ? `${path}/` : path));
  assert.deepEqual(names.stdout.toString('utf8').split('\n').filter(Boolean).sort(), expectedNames.sort());
  const json = await rclone('lsjson -R', ['lsjson', '-R', `${remote}tree`]);
  const entries = JSON.parse(json.stdout.toString('utf8')) as { Path: string; Size: number; IsDir: boolean }[];
  const sizes = Object.fromEntries(entries.map((entry) => [entry.Path, entry.IsDir ? 'dir' : entry.Size]));
  const expectedSizes = Object.fromEntries(Object.keys(expected).map((path) => [path, expected[path] === 'dir' ? 'dir' : statSync(join(source, path)).size]));
  assert.deepEqual(sizes, expectedSizes);

  const back = join(server.scratch, 'back');
  await rclone('copy down', ['copy', '--create-empty-src-dirs', `${remote}tree`, back]);
  assert.deepEqual(treeHashes(back), expected);
}

describe('rclone FTPS (default server: session_reuse on)', { skip: skipUnlessInstalled('rclone') }, () => {
  for (const mode of [EXPLICIT, IMPLICIT]) {
    describe(mode.name, () => {
      test(`${ONE_CONNECTION.name}: copy up, lsf/lsjson, copy down; byte-exact, every data connection resumed`, () =>
        withLoggedTlsServer({}, (server, log) => roundTrip(server, log, mode, ONE_CONNECTION)));

    });
  }

  describe(`${EXPLICIT.name}, TLS 1.2 (disable_tls13=true)`, () => {
    test(`${ONE_CONNECTION_TLS12.name}: copy up, lsf/lsjson, copy down; byte-exact, every data connection resumed`, () =>
      withLoggedTlsServer({}, (server, log) => roundTrip(server, log, EXPLICIT, ONE_CONNECTION_TLS12)));
  });
});
