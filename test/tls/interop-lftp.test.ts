/**
 * Interoperability with lftp (GnuTLS) over explicit FTPS: AUTH TLS, PBSZ 0, PROT P, with
 * `ssl:verify-certificate no` (self-signed test certificate), `ftp:ssl-force yes` and
 * `ftp:ssl-protect-data yes`.
 *
 * Known fact encoded here: lftp resumes the control connection's TLS session on every
 * data connection, so it works against the default tls.session_reuse = true, in passive
 * (EPSV and PASV) and active (PORT) mode, for many data connections in a row (mirror).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File, treeHashes, writeTestTree } from '../helpers/data.js';
import { LFTP_EPSV, LFTP_PASV, LFTP_PORT, type LftpMode } from '../helpers/lftp.js';
import { assertExitOk, clientEnv, describeRun, skipUnlessInstalled, type DialogueRun } from '../helpers/run-process.js';
import { assertFtpsDialogue, runFtpsLftp, withTlsServer, type TlsTestServer } from './fixtures.js';

const MODES: readonly LftpMode[] = [LFTP_EPSV, LFTP_PASV, LFTP_PORT];

function lftp(server: TlsTestServer, mode: LftpMode, local: string, commands: readonly string[]): Promise<DialogueRun> {
  return runFtpsLftp(`ftp://${server.host}:${server.port}`, commands, { cwd: local, env: clientEnv(server.scratch), settings: mode.settings });
}

/** Explicit FTPS was really used, only in the mode asked for, and nothing was refused. */
function assertLftpFtps(what: string, run: DialogueRun, mode: LftpMode): void {
  const { sent, received } = run;
  assertFtpsDialogue(what, run, true);
  assert.ok(received.includes('234 AUTH TLS ok: proceed with TLS negotiation.'), `${what}: ${received.join(' | ')}`);
  const data = sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
  assert.ok(data.length > 0, `${what}: no data connection`);
  for (const line of data) assert.match(line, mode.command, `${what}: lftp sent ${line} in ${mode.name}`);
  const refusals = received.filter((line) => /^[45]\d\d /.test(line));
  assert.deepEqual(refusals, [], `${what}: refused (e.g. 522 = no session reuse)\n${describeRun(what, run)}`);
}

describe('lftp explicit FTPS (default server: session_reuse on)', { skip: skipUnlessInstalled('lftp') }, () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      test('put, get and ls: byte-exact, all-256-byte-values and 5 MiB random', () =>
        withTlsServer({}, async (server) => {
          const local = join(server.scratch, 'local');
          mkdirSync(local);
          writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES);
          writeFileSync(join(local, 'random.bin'), randomData());
          const run = await lftp(server, mode, local, [
            'put all-bytes.bin -o up-all.bin',
            'put random.bin -o up-random.bin',
            'get up-all.bin -o got-all.bin',
            'get up-random.bin -o got-random.bin',
            'cls -l',
          ]);
          assertExitOk(`lftp ${mode.name}`, run);
          assertLftpFtps(`lftp ${mode.name}`, run, mode);
          assert.equal(sha256File(join(server.root, 'up-all.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(server.root, 'up-random.bin')), sha256(randomData()));
          assert.equal(sha256File(join(local, 'got-all.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(local, 'got-random.bin')), sha256(randomData()));
          const listing = run.stdout.toString('utf8');
          assert.match(listing, new RegExp(`\\s${ALL_BYTES.length}\\s.*up-all\\.bin$`, 'm'), listing);
          assert.match(listing, new RegExp(`\\s${randomData().length}\\s.*up-random\\.bin$`, 'm'), listing);
          // Uploads leave no temporary files behind.
          assert.deepEqual(readdirSync(server.root).sort(), ['up-all.bin', 'up-random.bin']);
        }));

      test('mirror -R up and mirror back down: identical trees (many data connections)', () =>
        withTlsServer({}, async (server) => {
          const source = join(server.scratch, 'source');
          const back = join(server.scratch, 'back');
          writeTestTree(source);
          const run = await lftp(server, mode, server.scratch, ['mirror -R --no-perms source tree', 'mirror --no-perms tree back']);
          assertExitOk(`lftp mirror ${mode.name}`, run);
          assertLftpFtps(`lftp mirror ${mode.name}`, run, mode);
          const expected = treeHashes(source);
          assert.deepEqual(treeHashes(join(server.root, 'tree')), expected);
          assert.deepEqual(treeHashes(back), expected);
          const transfers = run.sent.filter((line) => /^(RETR|STOR) /.test(line));
          assert.equal(transfers.length, 8, `expected 4 uploads and 4 downloads: ${transfers.join(' | ')}`);
        }));
    });
  }
});
