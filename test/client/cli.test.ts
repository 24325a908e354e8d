/**
 * The real `ferry` binary's client commands (node bin/ferry.js, spawned with a timeout,
 * no terminal, a clean HOME) against an in-process Ferry: ls, get (-c), put, cat, mkdir
 * -p, rm (-r), mv, the -d transcript, exit codes, and credentials from FERRY_PASSWORD or
 * a NETRC file. (mirror: mirror.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { closedPort, ferryUrl, ok, randomData, runFerry, startFerry, type FerryFixture } from './support.js';

let ferry: FerryFixture;
let local: { dir: string; remove: () => void };
const env = { FERRY_PASSWORD: PASSWORD };

before(async () => {
  ferry = await startFerry({ tls: true });
  local = scratchDir('ferry-cli-client-');
  writeFileSync(join(ferry.root, 'all-bytes.bin'), ALL_BYTES);
  writeFileSync(join(ferry.root, 'random.bin'), randomData());
});

after(async () => {
  await ferry?.stop();
  local?.remove();
});

const url = (path = '', user: string | null = USER): string => ferryUrl(ferry.port, path, user);

function localPath(...parts: string[]): string {
  const path = join(local.dir, ...parts);
  mkdirSync(join(path, '..'), { recursive: true });
  return path;
}

describe('ferry client commands against Ferry', () => {
  test('ls and ls -l', async () => {
    mkdirSync(join(ferry.root, 'lsdir', 'inner'), { recursive: true });
    writeFileSync(join(ferry.root, 'lsdir', 'five.txt'), '12345');
    writeFileSync(join(ferry.root, 'lsdir', 'all-bytes.bin'), ALL_BYTES);
    const plain = ok(await runFerry(['ls', url('lsdir')], { env }));
    assert.deepEqual(plain.stdout.toString().split('\n').filter(Boolean).sort(), ['all-bytes.bin', 'five.txt', 'inner']);
    const long = ok(await runFerry(['ls', '-l', url('lsdir/')], { env }));
    const lines = long.stdout.toString().split('\n').filter(Boolean);
    assert.equal(lines.length, 3, long.describe());
    assert.ok(lines.some((l) => /^- +5 \d{4}-\d\d-\d\d \d\d:\d\d five\.txt$/.test(l)), long.describe());
    assert.ok(lines.some((l) => new RegExp(`^- +${ALL_BYTES.length} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d all-bytes\\.bin$`).test(l)), long.describe());
    assert.ok(lines.some((l) => /^d +\S* ?.* inner$/.test(l)), long.describe());
    const top = ok(await runFerry(['ls', url()], { env }));
    assert.ok(top.stdout.toString().split('\n').includes('random.bin'));
  });

  test('get: into the working directory, to a path, into a folder; byte-exact', async () => {
    const cwd = localPath('get-cwd', 'x').replace(/x$/, '');
    const intoCwd = ok(await runFerry(['get', url('random.bin')], { env, cwd }));
    assert.equal(sha256File(join(cwd, 'random.bin')), sha256(randomData()));
    assert.match(intoCwd.stdout.toString(), new RegExp(`^downloaded random\\.bin \\(${randomData().length} bytes, [\\d.]+ [kM]B/s\\)$`, 'm'));
    const target = localPath('get', 'renamed.bin');
    ok(await runFerry(['get', url('all-bytes.bin'), target], { env }));
    assert.equal(sha256File(target), sha256(ALL_BYTES));
    const folder = localPath('get-folder', 'x').replace(/x$/, '');
    ok(await runFerry(['get', '--active', url('all-bytes.bin'), folder], { env }));
    assert.equal(sha256File(join(folder, 'all-bytes.bin')), sha256(ALL_BYTES));
  });

  test('get -c resumes a partial file and skips a complete one', async () => {
    const partial = localPath('resume', 'random.bin');
    writeFileSync(partial, randomData().subarray(0, 1_500_000));
    const resumed = ok(await runFerry(['get', '-c', '-d', url('random.bin'), partial], { env }));
    assert.equal(sha256File(partial), sha256(randomData()));
    assert.match(resumed.stderr, /^---> REST 1500000$/m, resumed.describe());
    const skipped = ok(await runFerry(['get', '-c', '-d', url('random.bin'), partial], { env }));
    assert.match(skipped.stdout.toString(), /^skipped random\.bin/m, skipped.describe());
    assert.doesNotMatch(skipped.stderr, /RETR/, 'a complete file is not downloaded again');
    writeFileSync(partial, Buffer.concat([randomData(), Buffer.from('extra')]));
    const larger = await runFerry(['get', '-c', url('random.bin'), partial], { env });
    assert.equal(larger.code, 2, `a local file larger than the remote one cannot be resumed: ${larger.describe()}`);
  });

  test('put: a URL ending in / keeps the local name; -c resumes; --append appends', async () => {
    mkdirSync(join(ferry.root, 'putdir'), { recursive: true });
    const source = localPath('put', 'random.bin');
    writeFileSync(source, randomData());
    const put = ok(await runFerry(['put', source, url('putdir/')], { env }));
    assert.match(put.stdout.toString(), /^uploaded putdir\/random\.bin \(\d+ bytes/m, put.describe());
    assert.equal(sha256File(join(ferry.root, 'putdir', 'random.bin')), sha256(randomData()));
    const bytes = localPath('put', 'all-bytes.bin');
    writeFileSync(bytes, ALL_BYTES);
    ok(await runFerry(['put', '--active', bytes, url('putdir/named.bin')], { env }));
    assert.equal(sha256File(join(ferry.root, 'putdir', 'named.bin')), sha256(ALL_BYTES));
    ok(await runFerry(['put', bytes, url()], { env }));
    assert.equal(sha256File(join(ferry.root, 'all-bytes.bin')), sha256(ALL_BYTES));
    // Resume: the server has the first part.
    writeFileSync(join(ferry.root, 'putdir', 'partial.bin'), randomData().subarray(0, 654_321));
    const partialSource = localPath('put', 'partial.bin');
    writeFileSync(partialSource, randomData());
    const resumed = ok(await runFerry(['put', '-c', '-d', partialSource, url('putdir/')], { env }));
    assert.match(resumed.stderr, /^---> REST 654321$/m, resumed.describe());
    assert.equal(sha256File(join(ferry.root, 'putdir', 'partial.bin')), sha256(randomData()));
    const skipped = ok(await runFerry(['put', '-c', partialSource, url('putdir/')], { env }));
    assert.match(skipped.stdout.toString(), /^skipped putdir\/partial\.bin/m);
    const tail = localPath('put', 'tail.txt');
    writeFileSync(tail, 'tail\n');
    writeFileSync(join(ferry.root, 'putdir', 'log.txt'), 'head\n');
    ok(await runFerry(['put', '--append', tail, url('putdir/log.txt')], { env }));
    assert.equal(readFileSync(join(ferry.root, 'putdir', 'log.txt'), 'utf8'), 'head\ntail\n');
    const missing = await runFerry(['put', localPath('put', 'does-not-exist'), url('putdir/')], { env });
    assert.equal(missing.code, 4, missing.describe());
  });

  test('cat writes exactly the file to stdout', async () => {
    const small = ok(await runFerry(['cat', url('all-bytes.bin')], { env }));
    assert.equal(sha256(small.stdout), sha256(ALL_BYTES));
    const big = ok(await runFerry(['cat', '--active', url('random.bin')], { env }));
    assert.equal(big.stdout.length, randomData().length);
    assert.equal(sha256(big.stdout), sha256(randomData()));
  });

  test('mkdir -p, rm, rm -r, mv', async () => {
    ok(await runFerry(['mkdir', '-p', url('made/a/b/c')], { env }));
    assert.ok(existsSync(join(ferry.root, 'made/a/b/c')));
    ok(await runFerry(['mkdir', '-p', url('made/a/b/c')], { env }));
    const noParent = await runFerry(['mkdir', url('nowhere/x')], { env });
    assert.equal(noParent.code, 4, noParent.describe());
    ok(await runFerry(['mkdir', url('made/plain')], { env }));
    assert.ok(existsSync(join(ferry.root, 'made/plain')));
    writeFileSync(join(ferry.root, 'made/a/b/file.bin'), ALL_BYTES);
    writeFileSync(join(ferry.root, 'made/a/b/c/deep.txt'), 'deep');
    writeFileSync(join(ferry.root, 'made/old.txt'), 'moving');
    ok(await runFerry(['mv', url('made/old.txt'), 'made/new.txt'], { env }));
    assert.equal(readFileSync(join(ferry.root, 'made/new.txt'), 'utf8'), 'moving');
    assert.ok(!existsSync(join(ferry.root, 'made/old.txt')));
    ok(await runFerry(['mv', url('made/plain'), '/made/renamed-dir'], { env }));
    assert.ok(existsSync(join(ferry.root, 'made/renamed-dir')));
    ok(await runFerry(['rm', url('made/new.txt')], { env }));
    assert.ok(!existsSync(join(ferry.root, 'made/new.txt')));
    const notEmpty = await runFerry(['rm', url('made/a')], { env });
    assert.notEqual(notEmpty.code, 0, notEmpty.describe());
    ok(await runFerry(['rm', '-r', url('made/a')], { env }));
    assert.ok(!existsSync(join(ferry.root, 'made/a')));
    const gone = await runFerry(['rm', url('made/new.txt')], { env });
    assert.equal(gone.code, 4, gone.describe());
    const mvMissing = await runFerry(['mv', url('made/nothing'), 'made/x'], { env });
    assert.equal(mvMissing.code, 4, mvMissing.describe());
    const mvInjected = await runFerry(['mv', url('made/renamed-dir'), 'x\r\nDELE all-bytes.bin'], { env });
    assert.equal(mvInjected.code, 2, mvInjected.describe());
    assert.ok(existsSync(join(ferry.root, 'all-bytes.bin')));
  });

  test('-d prints the dialogue: masked PASS, replies, EPSV/EPRT notes, data connections', async () => {
    const passive = ok(await runFerry(['ls', '-d', '--passive', url()], { env }));
    const lines = passive.stderr.split('\n');
    assert.match(lines[0]!, /^Connected to 127\.0\.0\.1 \(127\.0\.0\.1\) port \d+\.$/, passive.describe());
    for (const expected of [`---> USER ${USER}`, '---> PASS XXXX', '230 Login successful.', '---> MLSD', '---> QUIT']) {
      assert.ok(lines.includes(expected), `${expected} in ${passive.describe()}`);
    }
    assert.ok(lines.some((l) => /^331 /.test(l)), passive.describe());
    assert.ok(lines.some((l) => /^229 .*\(\|\|\|\d+\|\)/.test(l)), passive.describe());
    assert.ok(lines.some((l) => new RegExp(`^EPSV: server listens on port \\d+ of 127\\.0\\.0\\.1$`).test(l)), passive.describe());
    assert.ok(lines.some((l) => /^data connection: client 127\.0\.0\.1:\d+ -> server 127\.0\.0\.1:\d+ \(passive, opened by the client\)$/.test(l)), passive.describe());
    assert.ok(!passive.stderr.includes(PASSWORD), 'the password never appears');
    assert.ok(!passive.stdout.toString().includes('--->'), 'the dialogue goes to stderr only');

    const active = ok(await runFerry(['get', '-d', '--active', url('all-bytes.bin'), localPath('debug', 'a.bin')], { env }));
    assert.match(active.stderr, /^---> EPRT \|1\|127\.0\.0\.1\|\d+\|$/m, active.describe());
    assert.match(active.stderr, /^EPRT: client listens on 127\.0\.0\.1 port \d+$/m, active.describe());
    assert.match(active.stderr, /^data connection: server 127\.0\.0\.1:\d+ -> client 127\.0\.0\.1:\d+ \(active, opened by the server\)$/m, active.describe());
    assert.ok(!active.stderr.includes(PASSWORD));

    const tls = ok(await runFerry(['get', '-d', '--tls', '-k', url('all-bytes.bin'), localPath('debug', 'tls.bin')], { env }));
    assert.match(tls.stderr, /^---> AUTH TLS$/m);
    assert.match(tls.stderr, /^TLS: TLSv1\.[23] \S+, certificate not verified/m, tls.describe());
    assert.match(tls.stderr, /^data connection TLS: TLSv1\.[23], session resumed from the control connection$/m, tls.describe());
    assert.equal(sha256File(localPath('debug', 'tls.bin')), sha256(ALL_BYTES));
  });

  test('--pasv, --epsv, --port and --eprt each send that command alone, and the trace shows its arithmetic; two modes are a usage error', async () => {
    const expected: Record<string, { sent: RegExp; note: RegExp; never: string }> = {
      '--pasv': { sent: /^---> PASV$/m, note: /^PASV: server listens on 127\.0\.0\.1 port (\d+)\*256\+(\d+) = (\d+)$/m, never: '---> EPSV' },
      '--epsv': { sent: /^---> EPSV$/m, note: /^EPSV: server listens on port \d+ of 127\.0\.0\.1$/m, never: '---> PASV' },
      '--port': { sent: /^---> PORT 127,0,0,1,\d+,\d+$/m, note: /^PORT: client listens on 127\.0\.0\.1 port (\d+)\*256\+(\d+) = (\d+)$/m, never: '---> EPRT' },
      '--eprt': { sent: /^---> EPRT \|1\|127\.0\.0\.1\|\d+\|$/m, note: /^EPRT: client listens on 127\.0\.0\.1 port \d+$/m, never: '---> PORT' },
    };
    for (const [flag, { sent, note, never }] of Object.entries(expected)) {
      const target = localPath('modes', `${flag.slice(2)}.bin`);
      const result = ok(await runFerry(['get', '-d', flag, url('all-bytes.bin'), target], { env }));
      assert.match(result.stderr, sent, result.describe());
      const arithmetic = note.exec(result.stderr);
      assert.ok(arithmetic, result.describe());
      if (arithmetic[3]) assert.equal(Number(arithmetic[1]) * 256 + Number(arithmetic[2]), Number(arithmetic[3]));
      assert.ok(!result.stderr.includes(never), `${flag} sends no fallback: ${result.describe()}`);
      assert.equal(sha256File(target), sha256(ALL_BYTES));
    }
    const both = await runFerry(['ls', '--pasv', '--active', url()], { env });
    assert.equal(both.code, 2, both.describe());
    assert.match(both.stderr, /choose one data mode, not --active and --pasv/, both.describe());
  });

  test('implicit FTPS: ftps:// URLs with -k', async () => {
    assert.ok(ferry.implicitPort);
    const implicitUrl = `ftps://${USER}@127.0.0.1:${ferry.implicitPort}/all-bytes.bin`;
    const cat = ok(await runFerry(['cat', '-k', implicitUrl], { env }));
    assert.equal(sha256(cat.stdout), sha256(ALL_BYTES));
    const active = ok(await runFerry(['cat', '-k', '--active', '-d', implicitUrl], { env }));
    assert.equal(sha256(active.stdout), sha256(ALL_BYTES));
    assert.doesNotMatch(active.stderr, /^---> AUTH TLS$/m);
    assert.match(active.stderr, /session resumed from the control connection/);
    const unverified = await runFerry(['cat', implicitUrl], { env });
    assert.equal(unverified.code, 6, unverified.describe());
  });

  test('exit codes: 3 login, 4 not found, 5 network, 6 TLS, 2 usage', async () => {
    const login = await runFerry(['ls', url()], { env: { FERRY_PASSWORD: 'wrong' } });
    assert.equal(login.code, 3, login.describe());
    assert.ok(!login.stderr.includes('wrong'));
    const notFound = await runFerry(['get', url('no-such-file'), localPath('codes', 'x')], { env });
    assert.equal(notFound.code, 4, notFound.describe());
    assert.ok(!existsSync(localPath('codes', 'x')), 'no local file for a missing remote file');
    const catMissing = await runFerry(['cat', url('no-such-file')], { env });
    assert.equal(catMissing.code, 4, catMissing.describe());
    const lsMissing = await runFerry(['ls', url('no-such-dir/')], { env });
    assert.equal(lsMissing.code, 4, lsMissing.describe());
    const port = await closedPort();
    const network = await runFerry(['ls', `ftp://${USER}@127.0.0.1:${port}/`], { env });
    assert.equal(network.code, 5, network.describe());
    const tls = await runFerry(['ls', '--tls', url()], { env });
    assert.equal(tls.code, 6, tls.describe());
    for (const bad of ['not a url', 'http://127.0.0.1/x', `ftp://${USER}:${PASSWORD}@127.0.0.1:${ferry.port}/`, `ftp://${USER}@127.0.0.1:${ferry.port}/a%0D%0ADELE%20random.bin`]) {
      const usage = await runFerry(['ls', bad], { env });
      assert.equal(usage.code, 2, usage.describe());
      if (bad.includes(`:${PASSWORD}@`)) assert.ok(!usage.stderr.includes(PASSWORD), `the password is not echoed: ${usage.describe()}`);
    }
    const timeout = await runFerry(['ls', '--timeout', 'soon', url()], { env });
    assert.equal(timeout.code, 2, timeout.describe());
    // No password anywhere and no terminal to ask on.
    const noPassword = await runFerry(['ls', url()], {});
    assert.equal(noPassword.code, 2, noPassword.describe());
    assert.match(noPassword.stderr, /FERRY_PASSWORD/);
    assert.ok(existsSync(join(ferry.root, 'random.bin')));
  });

  test(
    'get into a folder that does not exist fails cleanly (a "ferry:" message, exit 4)',
    async () => {
      const result = await runFerry(['get', url('all-bytes.bin'), join(local.dir, 'no-such-folder', 'x.bin')], { env });
      assert.equal(result.code, 4, result.describe());
      assert.match(result.stderr, /^ferry: .*ENOENT/m, result.describe());
      assert.doesNotMatch(result.stderr, /Unhandled 'error' event/, result.describe());
    },
  );

  test('percent-encoded names in URLs (spaces, CJK)', async () => {
    mkdirSync(join(ferry.root, 'dir with space'), { recursive: true });
    writeFileSync(join(ferry.root, 'dir with space', '中文 名.bin'), ALL_BYTES);
    const ls = ok(await runFerry(['ls', url('dir%20with%20space/')], { env }));
    assert.equal(ls.stdout.toString(), '中文 名.bin\n');
    const cat = ok(await runFerry(['cat', url(`dir%20with%20space/${encodeURIComponent('中文 名.bin')}`)], { env }));
    assert.equal(sha256(cat.stdout), sha256(ALL_BYTES));
    const out = localPath('encoded', 'x').replace(/x$/, '');
    ok(await runFerry(['get', url(`dir%20with%20space/${encodeURIComponent('中文 名.bin')}`), out], { env }));
    assert.equal(sha256File(join(out, '中文 名.bin')), sha256(ALL_BYTES));
  });

  test('credentials from a NETRC file', async () => {
    const netrc = localPath('netrc', 'netrc');
    writeFileSync(netrc, `machine example.invalid login nobody password nothing\n\nmachine 127.0.0.1 login ${USER} password ${PASSWORD}\n`, { mode: 0o600 });
    // No user in the URL: login and password both come from the file.
    const noUser = ok(await runFerry(['ls', '-d', url('', null)], { env: { NETRC: netrc } }));
    assert.ok(noUser.stderr.split('\n').includes(`---> USER ${USER}`), noUser.describe());
    assert.ok(noUser.stdout.toString().split('\n').includes('random.bin'));
    // The URL's user matches the entry.
    ok(await runFerry(['cat', url('all-bytes.bin')], { env: { NETRC: netrc } }));
    // A "default" entry.
    const fallback = localPath('netrc', 'default');
    writeFileSync(fallback, `default login ${USER} password ${PASSWORD}\n`);
    ok(await runFerry(['ls', url('', null)], { env: { NETRC: fallback } }));
    // FERRY_PASSWORD wins over the file.
    const wrong = localPath('netrc', 'wrong');
    writeFileSync(wrong, `machine 127.0.0.1 login ${USER} password not-the-password\n`);
    ok(await runFerry(['ls', url()], { env: { NETRC: wrong, FERRY_PASSWORD: PASSWORD } }));
    const wrongOnly = await runFerry(['ls', url()], { env: { NETRC: wrong } });
    assert.equal(wrongOnly.code, 3, wrongOnly.describe());
    // An entry for another user does not apply.
    const otherUser = await runFerry(['ls', url('', 'bob')], { env: { NETRC: netrc } });
    assert.equal(otherUser.code, 2, `no password for bob: ${otherUser.describe()}`);
  });
});
