/**
 * Interoperability with curl: transfers in all four data-connection modes, listings
 * (LIST, NLST, -I), resume in both directions, ranged downloads (ABOR), append, quote
 * commands (RNFR/RNTO, DELE), directory creation, --ftp-method variants, ASCII mode,
 * login failures, URL-encoded names, anonymous and read-only users, IPv6.
 *
 * curl runs with --verbose, so its stderr carries the control dialogue ("> CMD",
 * "< NNN text"); tests assert on the commands curl chose and the replies it got.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCurl, type CurlRun as CurlRunBase } from '../helpers/curl.js';
import { ALL_BYTES, randomData, sha256, sha256File, treeHashes } from '../helpers/data.js';
import { assertExitOk, describeRun, skipUnlessInstalled } from '../helpers/run-process.js';
import { PASSWORD, READONLY_USER, USER } from '../helpers/server.js';
import { CJK_NAME, SPACED_NAME, ftpUrl, ipv6LoopbackAvailable, parseListLines, withServer, type InteropContext } from './fixtures.js';

const SKIP_CURL = skipUnlessInstalled('curl');

interface CurlRun extends CurlRunBase {
  /** Codes of the final reply lines curl received, in order. */
  codes: number[];
}

/** 2024-01-02T03:04:05Z: old enough for `ls -l` to show the year. */
const OLD_TIME = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

const ALICE = `${USER}:${PASSWORD}`;
const BOB = `${READONLY_USER}:${PASSWORD}`;

/** Runs curl against the test server; `auth` null means no --user (curl logs in as anonymous). */
async function curl(context: InteropContext, args: readonly string[], auth: string | null = ALICE): Promise<CurlRun> {
  const run = await runCurl(args, { cwd: context.local, env: context.env, user: auth, maxTimeSeconds: 50 });
  return { ...run, codes: run.dialogue.filter((l) => l.direction === '<' && l.text[3] === ' ').map((l) => Number(l.text.slice(0, 3))) };
}

/** The final reply line to the first command that `matches`. */
function replyTo(run: CurlRun, matches: (command: string) => boolean): string | undefined {
  const index = run.dialogue.findIndex((l) => l.direction === '>' && matches(l.text));
  if (index === -1) return undefined;
  return run.dialogue.slice(index + 1).find((l) => l.direction === '<' && l.text[3] === ' ')?.text;
}

function replyToVerb(run: CurlRun, verb: string): string | undefined {
  return replyTo(run, (command) => command === verb || command.startsWith(verb + ' '));
}

function assertTransferOk(what: string, run: CurlRun): void {
  assertExitOk(what, run);
  const opened = run.codes.indexOf(150);
  assert.ok(opened !== -1, `${what}: no 150 reply\n${describeRun(what, run)}`);
  assert.ok(run.codes.indexOf(226, opened) > opened, `${what}: no 226 after 150\n${describeRun(what, run)}`);
}

interface Mode {
  name: string;
  args: readonly string[];
  verb: 'EPSV' | 'PASV' | 'EPRT' | 'PORT';
  reply: number;
  /** What the command line must look like (IPv4 loopback). */
  line: RegExp;
}

const MODES: readonly Mode[] = [
  { name: 'EPSV (default)', args: [], verb: 'EPSV', reply: 229, line: /^EPSV$/ },
  { name: 'PASV (--disable-epsv)', args: ['--disable-epsv'], verb: 'PASV', reply: 227, line: /^PASV$/ },
  { name: 'EPRT (-P -)', args: ['-P', '-'], verb: 'EPRT', reply: 200, line: /^EPRT \|1\|127\.0\.0\.1\|\d+\|$/ },
  { name: 'PORT (--disable-eprt -P -)', args: ['--disable-eprt', '-P', '-'], verb: 'PORT', reply: 200, line: /^PORT 127,0,0,1,\d+,\d+$/ },
];

/** curl used exactly this data-connection command, and the server accepted it. */
function assertMode(what: string, run: CurlRun, mode: Mode): void {
  const dataCommands = run.sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
  assert.ok(dataCommands.length > 0, `${what}: no data-connection command\n${describeRun(what, run)}`);
  for (const line of dataCommands) assert.match(line, mode.line, `${what}: unexpected data-connection command`);
  const reply = replyToVerb(run, mode.verb);
  assert.equal(reply?.slice(0, 3), String(mode.reply), `${what}: reply to ${mode.verb} was ${reply}`);
  if (mode.verb === 'PASV') assert.match(reply!, /\(127,0,0,1,\d+,\d+\)/);
  if (mode.verb === 'EPSV') assert.match(reply!, /\(\|\|\|\d+\|\)/);
}

function nlstNames(run: CurlRun): string[] {
  return run.stdout
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .sort();
}

describe('curl', { skip: SKIP_CURL }, () => {
  for (const mode of MODES) {
    test(`download and upload are byte-exact over ${mode.name}`, () =>
      withServer({}, async (context) => {
        const { server, local } = context;
        const files: Array<[string, Buffer]> = [
          ['all-bytes.bin', ALL_BYTES],
          ['random.bin', randomData()],
        ];
        for (const [name, data] of files) writeFileSync(join(server.root, name), data);

        for (const [name, data] of files) {
          const target = join(local, name);
          const down = await curl(context, [...mode.args, '--output', target, ftpUrl(server, `/${name}`)]);
          assertTransferOk(`download ${name}`, down);
          assertMode(`download ${name}`, down, mode);
          assert.ok(down.sent.includes('TYPE I'), 'curl downloads in binary mode');
          assert.equal(replyToVerb(down, 'SIZE'), `213 ${data.length}`);
          assert.equal(sha256File(target), sha256(data), `downloaded ${name} differs`);

          const up = await curl(context, [...mode.args, '--upload-file', target, ftpUrl(server, `/up-${name}`)]);
          assertTransferOk(`upload ${name}`, up);
          assertMode(`upload ${name}`, up, mode);
          assert.ok(up.sent.includes(`STOR up-${name}`));
          assert.equal(sha256File(join(server.root, `up-${name}`)), sha256(data), `uploaded ${name} differs`);
        }

        const list = await curl(context, [...mode.args, '--list-only', ftpUrl(server, '/')]);
        assertTransferOk('NLST', list);
        assertMode('NLST', list, mode);
        assert.deepEqual(nlstNames(list), ['all-bytes.bin', 'random.bin', 'up-all-bytes.bin', 'up-random.bin']);
        // No upload temporaries left behind.
        assert.deepEqual(readdirSync(server.root).sort(), ['all-bytes.bin', 'random.bin', 'up-all-bytes.bin', 'up-random.bin']);
      }));
  }

  test('directory listings (LIST and --list-only) show the right names and sizes', () =>
    withServer({}, async (context) => {
      const { server } = context;
      const dir = join(server.root, 'dir');
      mkdirSync(join(dir, 'sub'), { recursive: true });
      writeFileSync(join(dir, 'all-bytes.bin'), ALL_BYTES);
      writeFileSync(join(dir, 'random.bin'), randomData());
      writeFileSync(join(dir, SPACED_NAME), 'spaces\n');
      writeFileSync(join(dir, CJK_NAME), '中文\n');
      writeFileSync(join(dir, 'sub', 'inner.txt'), 'inner');

      const list = await curl(context, [ftpUrl(server, '/dir/')]);
      assertTransferOk('LIST', list);
      assert.ok(list.sent.includes('CWD dir'));
      assert.ok(list.sent.includes('LIST'));
      const entries = parseListLines(list.stdout.toString('utf8'));
      assert.deepEqual([...entries.keys()].sort(), ['all-bytes.bin', CJK_NAME, SPACED_NAME, 'random.bin', 'sub'].sort());
      assert.deepEqual(entries.get('all-bytes.bin'), { type: 'file', size: ALL_BYTES.length, name: 'all-bytes.bin' });
      assert.deepEqual(entries.get('random.bin'), { type: 'file', size: randomData().length, name: 'random.bin' });
      assert.deepEqual(entries.get(SPACED_NAME), { type: 'file', size: 7, name: SPACED_NAME });
      assert.deepEqual(entries.get(CJK_NAME), { type: 'file', size: Buffer.byteLength('中文\n'), name: CJK_NAME });
      assert.equal(entries.get('sub')?.type, 'directory');

      const names = await curl(context, ['--list-only', ftpUrl(server, '/dir/')]);
      assertTransferOk('NLST', names);
      assert.ok(names.sent.includes('NLST'));
      assert.deepEqual(nlstNames(names), ['all-bytes.bin', CJK_NAME, SPACED_NAME, 'random.bin', 'sub'].sort());

      // An old file shows a year instead of a time (the `ls -l` rule clients parse).
      writeFileSync(join(dir, 'sub', 'old.txt'), 'old');
      utimesSync(join(dir, 'sub', 'old.txt'), OLD_TIME, OLD_TIME);
      const nested = await curl(context, [ftpUrl(server, '/dir/sub/')]);
      assertTransferOk('LIST sub', nested);
      assert.deepEqual(
        [...parseListLines(nested.stdout.toString('utf8')).values()],
        [
          { type: 'file', size: 5, name: 'inner.txt' },
          { type: 'file', size: 3, name: 'old.txt' },
        ],
      );
      assert.match(nested.stdout.toString('utf8'), /\s3 Jan {2}2 {2}2024 old\.txt\r?\n/);

      // -I: size from SIZE, time from MDTM.
      const head = await curl(context, ['--head', ftpUrl(server, '/dir/sub/old.txt')]);
      assertExitOk('curl --head', head);
      assert.equal(replyToVerb(head, 'MDTM'), '213 20240102030405');
      const headers = head.stdout.toString('utf8');
      assert.match(headers, /^Content-Length: 3\r?$/m);
      assert.match(headers, /^Last-Modified: Tue, 02 Jan 2024 03:04:05 GMT\r?$/m);
    }));

  test('resumed download (-C -) completes a partial local file', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const data = randomData();
      const offset = 1_234_567;
      writeFileSync(join(server.root, 'random.bin'), data);
      const target = join(local, 'random.bin');
      writeFileSync(target, data.subarray(0, offset));

      const run = await curl(context, ['--continue-at', '-', '--output', target, ftpUrl(server, '/random.bin')]);
      assertTransferOk('resumed download', run);
      assert.equal(replyToVerb(run, 'REST')?.slice(0, 3), '350');
      assert.ok(run.sent.includes(`REST ${offset}`), `sent: ${run.sent.join(' | ')}`);
      assert.equal(readFileSync(target).length, data.length);
      assert.equal(sha256File(target), sha256(data));
    }));

  test('resumed upload (-C - -T) completes a partial remote file', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const data = randomData();
      const offset = 3_000_001;
      writeFileSync(join(server.root, 'random.bin'), data.subarray(0, offset));
      const source = join(local, 'random.bin');
      writeFileSync(source, data);

      const run = await curl(context, ['--continue-at', '-', '--upload-file', source, ftpUrl(server, '/random.bin')]);
      assertTransferOk('resumed upload', run);
      assert.equal(replyToVerb(run, 'SIZE'), `213 ${offset}`);
      // curl resumes uploads by skipping the remote size locally and appending.
      assert.ok(run.sent.includes('APPE random.bin'), `sent: ${run.sent.join(' | ')}`);
      assert.equal(sha256File(join(server.root, 'random.bin')), sha256(data));
    }));

  test('--append adds to an existing file and creates a missing one', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'log.bin'), ALL_BYTES);
      const source = join(local, 'random.bin');
      writeFileSync(source, randomData());

      const run = await curl(context, ['--append', '--upload-file', source, ftpUrl(server, '/log.bin')]);
      assertTransferOk('append', run);
      assert.ok(run.sent.includes('APPE log.bin'));
      assert.equal(sha256File(join(server.root, 'log.bin')), sha256(Buffer.concat([ALL_BYTES, randomData()])));

      const fresh = await curl(context, ['--append', '--upload-file', source, ftpUrl(server, '/fresh.bin')]);
      assertTransferOk('append to a missing file', fresh);
      assert.equal(sha256File(join(server.root, 'fresh.bin')), sha256(randomData()));
    }));

  test('rename with -Q "RNFR a" -Q "RNTO b" (names with spaces and UTF-8)', () =>
    withServer({}, async (context) => {
      const { server } = context;
      writeFileSync(join(server.root, SPACED_NAME), ALL_BYTES);
      mkdirSync(join(server.root, 'sub'));

      const run = await curl(context, ['--quote', `RNFR ${SPACED_NAME}`, '--quote', `RNTO ${CJK_NAME}`, '--list-only', ftpUrl(server, '/')]);
      assertExitOk('rename', run);
      assert.equal(replyToVerb(run, 'RNFR'), '350 Ready for RNTO.');
      assert.equal(replyToVerb(run, 'RNTO'), '250 Rename successful.');
      assert.ok(!existsSync(join(server.root, SPACED_NAME)));
      assert.equal(sha256File(join(server.root, CJK_NAME)), sha256(ALL_BYTES));
      // The listing after the quote commands already shows the new name.
      assert.deepEqual(nlstNames(run), [CJK_NAME, 'sub'].sort());

      const move = await curl(context, ['--quote', `RNFR ${CJK_NAME}`, '--quote', 'RNTO sub/moved.bin', '--list-only', ftpUrl(server, '/sub/')]);
      assertExitOk('move into a folder', move);
      assert.deepEqual(nlstNames(move), ['moved.bin']);
      assert.equal(sha256File(join(server.root, 'sub', 'moved.bin')), sha256(ALL_BYTES));

      const missing = await curl(context, ['--quote', 'RNFR nothing-here', '--quote', 'RNTO x', '--list-only', ftpUrl(server, '/')]);
      assert.equal(missing.code, 21, describeRun('RNFR of a missing file', missing)); // CURLE_QUOTE_ERROR
      assert.equal(replyToVerb(missing, 'RNFR')?.slice(0, 3), '550');
    }));

  test('delete with -Q "DELE x"; deleting a missing file fails with exit 21', () =>
    withServer({}, async (context) => {
      const { server } = context;
      writeFileSync(join(server.root, 'doomed.bin'), ALL_BYTES);
      writeFileSync(join(server.root, SPACED_NAME), 'x');
      writeFileSync(join(server.root, 'keep.bin'), 'keep');

      const run = await curl(context, ['--quote', 'DELE doomed.bin', '--quote', `DELE ${SPACED_NAME}`, '--list-only', ftpUrl(server, '/')]);
      assertExitOk('delete', run);
      assert.equal(replyTo(run, (c) => c === 'DELE doomed.bin'), '250 File deleted.');
      assert.equal(replyTo(run, (c) => c === `DELE ${SPACED_NAME}`), '250 File deleted.');
      assert.deepEqual(readdirSync(server.root), ['keep.bin']);
      assert.deepEqual(nlstNames(run), ['keep.bin']);

      const again = await curl(context, ['--quote', 'DELE doomed.bin', '--list-only', ftpUrl(server, '/')]);
      assert.equal(again.code, 21, describeRun('DELE of a missing file', again)); // CURLE_QUOTE_ERROR
      assert.equal(replyToVerb(again, 'DELE')?.slice(0, 3), '550');
    }));

  test('--ftp-create-dirs creates missing folders for an upload', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const source = join(local, 'all-bytes.bin');
      writeFileSync(source, ALL_BYTES);

      const refused = await curl(context, ['--upload-file', source, ftpUrl(server, '/new dir/子目录/all-bytes.bin')]);
      assert.equal(refused.code, 9, describeRun('upload into a missing folder', refused)); // CURLE_REMOTE_ACCESS_DENIED
      assert.equal(replyTo(refused, (c) => c.startsWith('CWD '))?.slice(0, 3), '550');
      assert.deepEqual(readdirSync(server.root), []);

      const run = await curl(context, ['--ftp-create-dirs', '--upload-file', source, ftpUrl(server, '/new dir/子目录/all-bytes.bin')]);
      assertTransferOk('upload with --ftp-create-dirs', run);
      assert.equal(replyTo(run, (c) => c === 'MKD new dir'), '257 "/new dir" created.');
      assert.equal(replyTo(run, (c) => c === 'MKD 子目录'), '257 "/new dir/子目录" created.');
      assert.deepEqual(treeHashes(server.root), {
        'new dir': 'dir',
        'new dir/子目录': 'dir',
        'new dir/子目录/all-bytes.bin': sha256(ALL_BYTES),
      });
    }));

  test('a failed login gives exit code 67', () =>
    withServer({}, async (context) => {
      const { server } = context;
      writeFileSync(join(server.root, 'a.txt'), 'a');
      for (const auth of [`${USER}:wrong`, `nobody:${PASSWORD}`]) {
        const run = await curl(context, [ftpUrl(server, '/a.txt')], auth);
        assert.equal(run.code, 67, describeRun(`login as ${auth}`, run)); // CURLE_LOGIN_DENIED
        assert.equal(replyToVerb(run, 'PASS'), '530 Login incorrect.');
        assert.ok(!run.sent.some((line) => line.startsWith('RETR')));
      }
      // Anonymous access is off unless configured.
      const anonymous = await curl(context, [ftpUrl(server, '/a.txt')], null);
      assert.equal(anonymous.code, 67, describeRun('anonymous login on a server without anonymous access', anonymous));
      assert.ok(anonymous.sent.includes('USER anonymous'));
    }));

  test('URL-encoded names with spaces and UTF-8 download and upload', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, SPACED_NAME), ALL_BYTES);
      writeFileSync(join(server.root, CJK_NAME), randomData());

      for (const [name, data] of [
        [SPACED_NAME, ALL_BYTES],
        [CJK_NAME, randomData()],
      ] as const) {
        const url = ftpUrl(server, `/${name}`);
        assert.ok(!url.includes(' ') && /^[\x21-\x7e]+$/.test(url), `URL is percent-encoded: ${url}`);
        const target = join(local, `down-${name}`);
        const down = await curl(context, ['--output', target, url]);
        assertTransferOk(`download ${name}`, down);
        assert.ok(down.sent.includes(`RETR ${name}`), `sent: ${down.sent.join(' | ')}`);
        assert.equal(sha256File(target), sha256(data));

        const upName = `上传 ${name}`;
        const up = await curl(context, ['--upload-file', target, ftpUrl(server, `/${upName}`)]);
        assertTransferOk(`upload ${upName}`, up);
        assert.ok(up.sent.includes(`STOR ${upName}`));
        assert.equal(sha256File(join(server.root, upName)), sha256(data));
      }
      assert.deepEqual(readdirSync(server.root).sort(), [SPACED_NAME, CJK_NAME, `上传 ${SPACED_NAME}`, `上传 ${CJK_NAME}`].sort());
    }));

  test('reserved URL characters in names (% # [ ] { } ;) survive percent-encoding', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const name = 'odd 100% #1 [x] {y}; z+w.bin';
      writeFileSync(join(server.root, name), ALL_BYTES);
      const target = join(local, 'odd.bin');
      const down = await curl(context, ['--output', target, ftpUrl(server, `/${name}`)]);
      assertTransferOk('download of an odd name', down);
      assert.ok(down.sent.includes(`RETR ${name}`), `sent: ${down.sent.join(' | ')}`);
      assert.equal(sha256File(target), sha256(ALL_BYTES));

      const up = await curl(context, ['--upload-file', target, ftpUrl(server, `/${name}.copy`)]);
      assertTransferOk('upload of an odd name', up);
      assert.equal(sha256File(join(server.root, `${name}.copy`)), sha256(ALL_BYTES));
    }));

  for (const method of ['multicwd', 'singlecwd', 'nocwd'] as const) {
    test(`nested UTF-8 paths with --ftp-method ${method}`, () =>
      withServer({}, async (context) => {
        const { server, local } = context;
        const dir = join(server.root, 'new dir', '子目录');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, CJK_NAME), ALL_BYTES);
        const target = join(local, 'nested.bin');

        const down = await curl(context, ['--ftp-method', method, '--output', target, ftpUrl(server, `/new dir/子目录/${CJK_NAME}`)]);
        assertTransferOk(`download with ${method}`, down);
        assert.equal(sha256File(target), sha256(ALL_BYTES));
        const expected = {
          multicwd: ['CWD new dir', 'CWD 子目录', `RETR ${CJK_NAME}`],
          singlecwd: ['CWD new dir/子目录', `RETR ${CJK_NAME}`],
          nocwd: [`RETR new dir/子目录/${CJK_NAME}`],
        }[method];
        for (const line of expected) assert.ok(down.sent.includes(line), `${method}: sent ${down.sent.join(' | ')}`);

        const up = await curl(context, ['--ftp-method', method, '--upload-file', target, ftpUrl(server, '/new dir/子目录/up.bin')]);
        assertTransferOk(`upload with ${method}`, up);
        assert.equal(sha256File(join(dir, 'up.bin')), sha256(ALL_BYTES));

        const list = await curl(context, ['--ftp-method', method, '--list-only', ftpUrl(server, '/new dir/子目录/')]);
        assertTransferOk(`NLST with ${method}`, list);
        assert.deepEqual(nlstNames(list), [CJK_NAME, 'up.bin'].sort());
      }));
  }

  test('ASCII mode (-B, ;type=A, --crlf) keeps LF line ends on both sides', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const text = Array.from({ length: 5000 }, (_, i) => (i % 5 === 0 ? '' : `line ${i} ünïcødé 中文`)).join('\n') + '\n';
      writeFileSync(join(server.root, 'text.txt'), text);
      writeFileSync(join(local, 'lf.txt'), text);

      const down = await curl(context, ['--use-ascii', '--output', join(local, 'down.txt'), ftpUrl(server, '/text.txt')]);
      assertTransferOk('ASCII download', down);
      assert.ok(down.sent.includes('TYPE A'));
      // The server sends CRLF; curl turns it back into LF on Unix.
      assert.equal(sha256File(join(local, 'down.txt')), sha256(text));

      const typed = await curl(context, ['--output', join(local, 'typed.txt'), `${ftpUrl(server, '/text.txt')};type=A`]);
      assertTransferOk('download with ;type=A', typed);
      assert.ok(typed.sent.includes('TYPE A'));
      assert.equal(sha256File(join(local, 'typed.txt')), sha256(text));

      const up = await curl(context, ['--use-ascii', '--crlf', '--upload-file', join(local, 'lf.txt'), ftpUrl(server, '/up.txt')]);
      assertTransferOk('ASCII upload with --crlf', up);
      assert.ok(up.sent.includes('TYPE A'));
      const stored = readFileSync(join(server.root, 'up.txt'));
      assert.equal(stored.indexOf(0x0d), -1, 'CRLF from the wire is stored as LF');
      assert.equal(sha256(stored), sha256(text));
    }));

  test('a ranged download (-r) stops early and leaves the server usable', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'random.bin'), randomData());
      const ranges: Array<[number, number]> = [
        [0, 99],
        [1_000_000, 1_065_535],
      ];
      for (const [first, last] of ranges) {
        const target = join(local, `range-${first}.bin`);
        const run = await curl(context, ['--range', `${first}-${last}`, '--output', target, ftpUrl(server, '/random.bin')]);
        assertExitOk(`range ${first}-${last}`, run);
        if (first > 0) assert.ok(run.sent.includes(`REST ${first}`), `sent: ${run.sent.join(' | ')}`);
        assert.equal(sha256File(target), sha256(randomData().subarray(first, last + 1)), `range ${first}-${last}`);
      }
      // The aborted transfers did not wedge anything: a full download still works.
      const full = join(local, 'full.bin');
      const run = await curl(context, ['--output', full, ftpUrl(server, '/random.bin')]);
      assertTransferOk('full download after ranges', run);
      assert.equal(sha256File(full), sha256(randomData()));
    }));
});

describe('curl: anonymous and read-only users', { skip: SKIP_CURL }, () => {
  test('anonymous users download from the anonymous root but cannot upload', () =>
    withServer({ anonymous: { enabled: true } }, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.anonymousRoot, 'pub.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'private.bin'), 'private');
      const target = join(local, 'pub.bin');

      const down = await curl(context, ['--output', target, ftpUrl(server, '/pub.bin')], null);
      assertTransferOk('anonymous download', down);
      assert.ok(down.sent.includes('USER anonymous'));
      assert.equal(replyToVerb(down, 'PASS')?.slice(0, 3), '230');
      assert.equal(sha256File(target), sha256(ALL_BYTES));

      // Anonymous users are jailed to their own root.
      const hidden = await curl(context, ['--output', join(local, 'private.bin'), ftpUrl(server, '/private.bin')], null);
      assert.equal(hidden.code, 78, describeRun('anonymous download outside the anonymous root', hidden)); // CURLE_REMOTE_FILE_NOT_FOUND

      const up = await curl(context, ['--upload-file', target, ftpUrl(server, '/upload.bin')], null);
      assert.equal(up.code, 25, describeRun('anonymous upload', up)); // CURLE_UPLOAD_FAILED
      assert.equal(replyToVerb(up, 'STOR')?.slice(0, 3), '550');

      const remove = await curl(context, ['--quote', 'DELE pub.bin', '--list-only', ftpUrl(server, '/')], null);
      assert.equal(remove.code, 21, describeRun('anonymous delete', remove));

      assert.deepEqual(treeHashes(server.anonymousRoot), { 'pub.bin': sha256(ALL_BYTES) });
      assert.deepEqual(treeHashes(server.root), { 'private.bin': sha256('private') });
    }));

  test('the read-only user can download but not upload, delete, rename or create folders', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'data.bin'), ALL_BYTES);
      const target = join(local, 'data.bin');

      const down = await curl(context, ['--output', target, ftpUrl(server, '/data.bin')], BOB);
      assertTransferOk('read-only download', down);
      assert.equal(sha256File(target), sha256(ALL_BYTES));

      const up = await curl(context, ['--upload-file', target, ftpUrl(server, '/bob.bin')], BOB);
      assert.equal(up.code, 25, describeRun('read-only upload', up));
      assert.equal(replyToVerb(up, 'STOR'), '550 Permission denied.');

      const append = await curl(context, ['--append', '--upload-file', target, ftpUrl(server, '/data.bin')], BOB);
      assert.equal(append.code, 25, describeRun('read-only append', append));

      const remove = await curl(context, ['--quote', 'DELE data.bin', '--list-only', ftpUrl(server, '/')], BOB);
      assert.equal(remove.code, 21, describeRun('read-only delete', remove));
      assert.equal(replyToVerb(remove, 'DELE'), '550 Permission denied.');

      const rename = await curl(context, ['--quote', 'RNFR data.bin', '--quote', 'RNTO x.bin', '--list-only', ftpUrl(server, '/')], BOB);
      assert.equal(rename.code, 21, describeRun('read-only rename', rename));

      const mkdir = await curl(context, ['--ftp-create-dirs', '--upload-file', target, ftpUrl(server, '/bobdir/x.bin')], BOB);
      assert.notEqual(mkdir.code, 0, describeRun('read-only mkdir', mkdir));
      assert.equal(replyTo(mkdir, (c) => c === 'MKD bobdir'), '550 Permission denied.');

      assert.deepEqual(treeHashes(server.root), { 'data.bin': sha256(ALL_BYTES) });
    }));
});

const SKIP_IPV6 = SKIP_CURL || ((await ipv6LoopbackAvailable()) ? false : 'this host cannot listen on the IPv6 loopback address ::1');

describe('curl over IPv6', { skip: SKIP_IPV6 }, () => {
  const ipv6Modes = [
    { name: 'EPSV', args: [] as string[], line: /^EPSV$/, verb: 'EPSV', reply: 229 },
    { name: 'EPRT (-P -)', args: ['-P', '-'], line: /^EPRT \|2\|::1\|\d+\|$/, verb: 'EPRT', reply: 200 },
  ] as const;
  for (const mode of ipv6Modes) {
    test(`download and upload over [::1] with ${mode.name}`, () =>
      withServer({ host: '::1' }, async (context) => {
        const { server, local } = context;
        assert.equal(server.host, '::1');
        writeFileSync(join(server.root, 'random.bin'), randomData());
        const target = join(local, 'random.bin');
        const url = ftpUrl(server, '/random.bin');
        assert.ok(url.startsWith('ftp://[::1]:'));

        const down = await curl(context, [...mode.args, '--output', target, url]);
        assertTransferOk('IPv6 download', down);
        const dataCommands = down.sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
        assert.ok(dataCommands.length === 1 && mode.line.test(dataCommands[0]!), `data commands: ${dataCommands.join(' | ')}`);
        assert.equal(replyToVerb(down, mode.verb)?.slice(0, 3), String(mode.reply));
        assert.equal(sha256File(target), sha256(randomData()));

        const up = await curl(context, [...mode.args, '--upload-file', target, ftpUrl(server, '/up.bin')]);
        assertTransferOk('IPv6 upload', up);
        assert.equal(sha256File(join(server.root, 'up.bin')), sha256(randomData()));
      }));
  }
});
