/**
 * Interoperability with curl 7.88.1 (OpenSSL 3) over explicit FTPS (`--ssl-reqd -k`) and
 * implicit FTPS (`ftps://` on the implicit port), passive only: EPSV (curl's default) and
 * PASV (`--disable-epsv`), with session reuse required (the default).
 *
 * Known facts encoded here:
 * - curl 7.87-7.88 has a regression in ACTIVE-mode FTPS (curl issue #10666: it accepts
 *   the data connection but never starts TLS), so active FTPS is tested with lftp and
 *   ftplib instead.
 * - Several URLs in one run reuse the control connection. Under TLS 1.3 curl uses each
 *   ticket once, so every resumed download or listing hands it a fresh one; under
 *   TLS 1.2 curl turns tickets off and resumes by session ID.
 * - What the server cannot give curl: under TLS 1.3, a transfer that follows an upload
 *   in the same run. curl never reads an upload's data connection, so it never sees a
 *   ticket there, and the one it resumed with is spent (the same happens with vsftpd and
 *   ProFTPD). One upload per run, or --tls-max 1.2, works.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { assertExitOk, clientEnv, describeRun, skipUnlessInstalled, type DialogueRun } from '../helpers/run-process.js';
import { USER } from '../helpers/server.js';
import { runFtpsCurl, withTlsServer, type TlsTestServer } from './fixtures.js';

interface Mode {
  name: string;
  args: string[];
  command: RegExp;
}

const MODES: readonly Mode[] = [
  { name: 'passive (EPSV)', args: [], command: /^EPSV$/ },
  { name: 'passive (PASV, --disable-epsv)', args: ['--disable-epsv'], command: /^PASV$/ },
];

function base(server: TlsTestServer): string {
  return `ftp://${server.host}:${server.port}`;
}

/** A client folder inside the server's scratch folder, and the environment to run curl in. */
function clientSide(server: TlsTestServer): { local: string; env: NodeJS.ProcessEnv } {
  const local = join(server.scratch, 'curl');
  mkdirSync(local, { recursive: true });
  return { local, env: clientEnv(server.scratch) };
}

/** curl upgraded with AUTH before USER, protected data, only the mode's data command, and a 226. */
function assertFtps(what: string, run: DialogueRun, mode: Mode): void {
  const { sent, received } = run;
  // curl tries "AUTH SSL" first (and "AUTH TLS" if that is refused); Ferry accepts both.
  const auth = sent.findIndex((line) => /^AUTH (SSL|TLS)$/.test(line));
  assert.ok(auth !== -1 && auth < sent.indexOf(`USER ${USER}`), `${what}: no AUTH before USER: ${sent.join(' | ')}`);
  assert.ok(sent.includes('PBSZ 0') && sent.includes('PROT P'), `${what}: ${sent.join(' | ')}`);
  const data = sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
  assert.ok(data.length > 0, `${what}: no data connection`);
  for (const line of data) assert.match(line, mode.command, `${what}: curl sent ${line}`);
  assert.ok(received.some((line) => line.startsWith('226 ')), describeRun(what, run));
  assert.ok(!received.some((line) => /^52[12] /.test(line)), describeRun(what, run));
}

describe('curl explicit FTPS (--ssl-reqd)', { skip: skipUnlessInstalled('curl') }, () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      test('upload and download are byte-exact (all 256 byte values, 5 MiB random), one transfer per run', () =>
        withTlsServer({}, async (server) => {
          const { local, env } = clientSide(server);
          writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES);
          writeFileSync(join(local, 'random.bin'), randomData());
          for (const [file, content] of [['all-bytes.bin', ALL_BYTES], ['random.bin', randomData()]] as const) {
            const up = await runFtpsCurl([...mode.args, '--ssl-reqd', '-T', file, `${base(server)}/up-${file}`], { cwd: local, env });
            assertExitOk(`curl upload ${file}`, up);
            assertFtps(`curl upload ${file}`, up, mode);
            assert.ok(up.sent.includes(`STOR up-${file}`));
            assert.equal(sha256File(join(server.root, `up-${file}`)), sha256(content));

            const down = await runFtpsCurl([...mode.args, '--ssl-reqd', '-o', `got-${file}`, `${base(server)}/up-${file}`], { cwd: local, env });
            assertExitOk(`curl download ${file}`, down);
            assertFtps(`curl download ${file}`, down, mode);
            assert.equal(sha256File(join(local, `got-${file}`)), sha256(content));
          }
          assert.deepEqual(readdirSync(server.root).sort(), ['up-all-bytes.bin', 'up-random.bin']);
        }));

      test('listing (LIST) and name list (NLST, --list-only)', () =>
        withTlsServer({}, async (server) => {
          const { local, env } = clientSide(server);
          mkdirSync(join(server.root, 'folder'));
          writeFileSync(join(server.root, 'folder', 'a.bin'), ALL_BYTES);
          writeFileSync(join(server.root, 'folder', 'b name.txt'), 'b\n');
          const list = await runFtpsCurl([...mode.args, '--ssl-reqd', `${base(server)}/folder/`], { cwd: local, env });
          assertExitOk('curl LIST', list);
          assertFtps('curl LIST', list, mode);
          assert.ok(list.sent.includes('LIST'));
          // curl turns the CRLF of ASCII-mode listings into LF on output.
          const text = list.stdout.toString('utf8');
          assert.match(text, new RegExp(`^-\\S+\\s+\\d+\\s+\\S+\\s+\\S+\\s+${ALL_BYTES.length}\\s.*\\sa\\.bin\\r?$`, 'm'), text);
          assert.match(text, /\sb name\.txt\r?$/m, text);

          const nlst = await runFtpsCurl([...mode.args, '--ssl-reqd', '--list-only', `${base(server)}/folder/`], { cwd: local, env });
          assertExitOk('curl NLST', nlst);
          assertFtps('curl NLST', nlst, mode);
          assert.deepEqual(nlst.stdout.toString('utf8').split(/\r?\n/).filter(Boolean).sort(), ['a.bin', 'b name.txt']);
        }));
    });
  }

  test('plain curl (no --ssl-reqd) against the default server: 530 TLS required, exit 67, password never sent', () =>
    withTlsServer({}, async (server) => {
      writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
      const { local, env } = clientSide(server);
      const run = await runFtpsCurl(['-o', 'f.bin', `${base(server)}/f.bin`], { cwd: local, env });
      assert.equal(run.code, 67, describeRun('plain curl', run)); // CURLE_LOGIN_DENIED
      assert.ok(run.received.some((line) => /^530 TLS required: send AUTH TLS before logging in/.test(line)), describeRun('plain curl', run));
      assert.ok(!run.sent.some((line) => line.startsWith('PASS')), `curl sent PASS: ${run.sent.join(' | ')}`);
    }));

  test('--tls-max 1.2: upload and download are byte-exact, resumed by session ID', () =>
    withTlsServer({}, async (server) => {
      const { local, env } = clientSide(server);
      writeFileSync(join(local, 'random.bin'), randomData());
      const up = await runFtpsCurl(['--ssl-reqd', '--tls-max', '1.2', '-T', 'random.bin', `${base(server)}/up.bin`], { cwd: local, env });
      assertExitOk('curl --tls-max 1.2 upload', up);
      assertFtps('curl --tls-max 1.2 upload', up, MODES[0]!);
      assert.equal(sha256File(join(server.root, 'up.bin')), sha256(randomData()));
      const down = await runFtpsCurl(['--ssl-reqd', '--tls-max', '1.2', '-o', 'got.bin', `${base(server)}/up.bin`], { cwd: local, env });
      assertExitOk('curl --tls-max 1.2 download', down);
      assertFtps('curl --tls-max 1.2 download', down, MODES[0]!);
      assert.equal(sha256File(join(local, 'got.bin')), sha256(randomData()));
      for (const run of [up, down]) assert.match(run.stderr, /SSL connection using TLSv1\.2/);
    }));

  test('with tls.session_reuse = false: several transfers per run work as well', () =>
    withTlsServer({ tls: { session_reuse: false } }, async (server) => {
      writeFileSync(join(server.root, 'a.bin'), ALL_BYTES);
      const { local, env } = clientSide(server);
      const url = base(server);
      const run = await runFtpsCurl(['--ssl-reqd', '-o', 'a.bin', `${url}/a.bin`, '-o', 'b.bin', `${url}/a.bin`], { cwd: local, env });
      assertExitOk('curl, two transfers', run);
      assert.equal(sha256File(join(local, 'b.bin')), sha256(ALL_BYTES));
    }));
});

describe('curl: several URLs in one run, one control connection, session reuse required', { skip: skipUnlessInstalled('curl') }, () => {
  const FLAVOURS = [
    { name: 'explicit', args: ['--ssl-reqd'], url: (server: TlsTestServer) => base(server) },
    { name: 'implicit', args: [], url: (server: TlsTestServer) => `ftps://${server.host}:${server.implicitPort}` },
  ];
  const VERSIONS = [
    { name: 'TLS 1.3', args: ['--tlsv1.3'], protocol: 'TLSv1.3' },
    { name: 'TLS 1.2', args: ['--tls-max', '1.2'], protocol: 'TLSv1.2' },
  ];
  for (const flavour of FLAVOURS) {
    for (const version of VERSIONS) {
      test(`${flavour.name}, ${version.name}: three downloads and a listing, every data connection resumed`, () =>
        withTlsServer({}, async (server) => {
          writeFileSync(join(server.root, 'a.bin'), ALL_BYTES);
          writeFileSync(join(server.root, 'r.bin'), randomData());
          const { local, env } = clientSide(server);
          const url = flavour.url(server);
          const run = await runFtpsCurl(
            [...flavour.args, ...version.args, '-o', 'a.bin', `${url}/a.bin`, '-o', 'r.bin', `${url}/r.bin`, '-o', 'b.bin', `${url}/a.bin`, '-o', 'list.txt', `${url}/`],
            { cwd: local, env },
          );
          const what = `curl ${flavour.name} ${version.name}, four URLs`;
          assertExitOk(what, run);
          assert.equal(run.sent.filter((line) => line.startsWith('USER ')).length, 1, `${what}: more than one login: ${run.sent.join(' | ')}`);
          assert.equal(run.received.filter((line) => line.startsWith('226 ')).length, 4, describeRun(what, run));
          assert.ok(!run.received.some((line) => line.startsWith('522 ')), describeRun(what, run));
          assert.match(run.stderr, new RegExp(`SSL connection using ${version.protocol.replace('.', '\\.')}`));
          assert.equal(sha256File(join(local, 'a.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(local, 'b.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(local, 'r.bin')), sha256(randomData()));
          assert.match(readFileSync(join(local, 'list.txt'), 'utf8'), /\sr\.bin\r?$/m);
        }));
    }
  }

  test('TLS 1.2: several uploads and downloads in one run', () =>
    withTlsServer({}, async (server) => {
      const { local, env } = clientSide(server);
      writeFileSync(join(local, 'one.bin'), ALL_BYTES);
      writeFileSync(join(local, 'two.bin'), randomData());
      const url = base(server);
      const run = await runFtpsCurl(
        // curl pairs each -o with the URLs in order, uploads included.
        ['--ssl-reqd', '--tls-max', '1.2', '-T', 'one.bin', '-o', 'one.out', `${url}/`, '-T', 'two.bin', '-o', 'two.out', `${url}/`, '-o', 'back.bin', `${url}/two.bin`],
        { cwd: local, env },
      );
      assertExitOk('curl TLS 1.2, two uploads and a download', run);
      assert.equal(sha256File(join(server.root, 'one.bin')), sha256(ALL_BYTES));
      assert.equal(sha256File(join(server.root, 'two.bin')), sha256(randomData()));
      assert.equal(sha256File(join(local, 'back.bin')), sha256(randomData()));
    }));
});
