/**
 * Interoperability with lftp: get/put in passive (PASV and EPSV) and active (PORT)
 * mode, listings (ls, cls), mirror in both directions (and an idempotent re-run),
 * mget/mput, ASCII mode, file management, resume both ways, the read-only user, IPv6,
 * and modification times kept on upload (MFMT).
 *
 * lftp runs with -d, so its stderr carries the control dialogue ("---> CMD",
 * "<--- NNN text"); `cmd:fail-exit` makes any failing command end the run non-zero.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File, treeHashes } from '../helpers/data.js';
import { LFTP_EPSV, LFTP_PASV, LFTP_PORT, lftpQuote, runLftp, type LftpMode } from '../helpers/lftp.js';
import { assertExitOk, describeRun, skipUnlessInstalled, type DialogueRun } from '../helpers/run-process.js';
import { READONLY_USER, USER } from '../helpers/server.js';
import { CJK_NAME, SPACED_NAME, ipv6LoopbackAvailable, parseListLines, withServer, type InteropContext } from './fixtures.js';

/** 2024-01-02T03:04:05Z: old enough for `ls -l` to show the year. */
const OLD_TIME = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

const SKIP_LFTP = skipUnlessInstalled('lftp');

const MODES: readonly LftpMode[] = [LFTP_PASV, LFTP_EPSV, LFTP_PORT];
const PASSIVE = MODES[0]!;

interface LftpRun extends DialogueRun {
  /** Final reply lines, in order. */
  received: string[];
  /** Data-connection commands lftp sent. */
  dataCommands: string[];
}

/** lftpQuote, short: lftp commands with quoted words read better. */
const q = lftpQuote;

async function lftp(context: InteropContext, mode: LftpMode, commands: readonly string[], user = USER): Promise<LftpRun> {
  const { server } = context;
  const url = `ftp://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
  const run = await runLftp(url, commands, { cwd: context.local, env: context.env, user, settings: ['set ftp:ssl-allow no', ...mode.settings] });
  const received = run.received.filter((line) => line[3] === ' ');
  const dataCommands = run.sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
  return { ...run, received, dataCommands };
}

function assertMode(what: string, run: LftpRun, mode: LftpMode): void {
  assert.ok(run.dataCommands.length > 0, `${what}: no data connection was made`);
  for (const line of run.dataCommands) assert.match(line, mode.command, `${what}: lftp sent ${line} in ${mode.name}`);
}

function stdoutLines(run: LftpRun): string[] {
  return run.stdout
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '');
}

/** A small tree with every kind of content: both test files, odd names, nesting, an empty folder. */
function makeTree(dir: string, variant: string): void {
  mkdirSync(join(dir, 'sub dir', '子目录'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'all-bytes.bin'), ALL_BYTES);
  writeFileSync(join(dir, 'random.bin'), randomData());
  writeFileSync(join(dir, SPACED_NAME), `spaces ${variant}\n`);
  writeFileSync(join(dir, CJK_NAME), `中文 ${variant}\n`);
  writeFileSync(join(dir, 'sub dir', 'a.txt'), `a ${variant}`);
  writeFileSync(join(dir, 'sub dir', 'zero.bin'), '');
  writeFileSync(join(dir, 'old.txt'), `old ${variant}`);
  utimesSync(join(dir, 'old.txt'), OLD_TIME, OLD_TIME);
  writeFileSync(join(dir, 'sub dir', '子目录', 'deep.bin'), ALL_BYTES.subarray(0, 1000 + variant.length));
}

describe('lftp', { skip: SKIP_LFTP }, () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      test('get and put are byte-exact', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          const files: Array<[string, Buffer]> = [
            ['all-bytes.bin', ALL_BYTES],
            ['random.bin', randomData()],
            [SPACED_NAME, ALL_BYTES.subarray(1000, 5000)],
            [CJK_NAME, randomData().subarray(0, 100_000)],
          ];
          for (const [name, data] of files) writeFileSync(join(server.root, name), data);
          const commands = files.flatMap(([name]) => [`get ${q(name)} -o ${q(join(local, name))}`, `put ${q(join(local, name))} -o ${q(`up ${name}`)}`]);

          const run = await lftp(context, mode, commands);
          assertExitOk('lftp get/put', run);
          assertMode('get/put', run, mode);
          assert.equal(run.dataCommands.length, 2 * files.length);
          for (const [name, data] of files) {
            assert.ok(run.sent.includes(`RETR ${name}`), `sent: ${run.sent.join(' | ')}`);
            assert.ok(run.sent.includes(`STOR up ${name}`), `sent: ${run.sent.join(' | ')}`);
            assert.equal(sha256File(join(local, name)), sha256(data), `got ${name}`);
            assert.equal(sha256File(join(server.root, `up ${name}`)), sha256(data), `put ${name}`);
          }
          assert.equal(run.received.filter((line) => line.startsWith('226 ')).length, 2 * files.length);
          assert.equal(readdirSync(server.root).length, 2 * files.length, 'no stray upload temporaries');
        }));

      test('mirror downloads a tree and mirror -R uploads one', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          makeTree(join(server.root, 'tree'), 'remote');
          const source = join(local, 'source');
          makeTree(source, 'local copy');

          const run = await lftp(context, mode, [`mirror tree ${q(join(local, 'down'))}`, `mirror -R ${q(source)} ${q('/up loaded')}`]);
          assertExitOk('lftp mirror', run);
          assertMode('mirror', run, mode);
          assert.deepEqual(treeHashes(join(local, 'down')), treeHashes(join(server.root, 'tree')));
          // mirror copies modification times (from MLSD "modify", UTC) to the nearest second.
          for (const name of ['all-bytes.bin', 'old.txt', `sub dir/子目录/deep.bin`]) {
            const remote = Math.floor(statSync(join(server.root, 'tree', name)).mtimeMs / 1000);
            assert.equal(Math.floor(statSync(join(local, 'down', name)).mtimeMs / 1000), remote, `mtime of ${name}`);
          }
          assert.deepEqual(treeHashes(join(server.root, 'up loaded')), treeHashes(source));
          assert.ok(run.sent.includes('MKD 子目录'), `sent: ${run.sent.join(' | ')}`);

          // Sizes and times line up, so a second mirror finds nothing to do.
          const again = await lftp(context, mode, [`mirror tree ${q(join(local, 'down'))}`, `mirror -R ${q(source)} ${q('/up loaded')}`]);
          assertExitOk('lftp mirror again', again);
          const transfers = again.sent.filter((line) => /^(RETR|STOR|APPE) /.test(line));
          assert.deepEqual(transfers, [], 'second mirror transfers nothing');
        }));
    });
  }

  test('ls shows LIST lines, cls shows names and sizes', () =>
    withServer({}, async (context) => {
      const { server } = context;
      makeTree(join(server.root, 'tree'), 'x');

      const run = await lftp(context, PASSIVE, ['cd tree', 'ls', 'echo ---', 'cls -1', 'echo ---', 'cls -l', 'echo ---', `cls -1 ${q('sub dir')}/`, 'echo ---', 'cls -l --time-style=+%Y-%m-%dT%H:%M:%S old.txt']);
      assertExitOk('lftp listings', run);
      const [ls = '', names = '', long = '', sub = '', time = ''] = run.stdout.toString('utf8').split('---\n');
      const expected = new Map<string, number | null>([
        ['all-bytes.bin', ALL_BYTES.length],
        ['random.bin', randomData().length],
        [SPACED_NAME, Buffer.byteLength('spaces x\n')],
        [CJK_NAME, Buffer.byteLength('中文 x\n')],
        ['sub dir', null],
        ['empty', null],
        ['old.txt', Buffer.byteLength('old x')],
      ]);

      const listed = parseListLines(ls);
      assert.deepEqual([...listed.keys()].sort(), [...expected.keys()].sort());
      for (const [name, size] of expected) {
        assert.equal(listed.get(name)!.type, size === null ? 'directory' : 'file', name);
        if (size !== null) assert.equal(listed.get(name)!.size, size, name);
      }

      // cls marks folders with a trailing slash.
      const classified = [...expected].map(([name, size]) => (size === null ? `${name}/` : name)).sort();
      assert.deepEqual(names.split('\n').filter((l) => l !== '').sort(), classified);

      const longLines = long.split('\n').filter((l) => l !== '');
      assert.equal(longLines.length, expected.size);
      for (const line of longLines) {
        const match = /^([-d])[-rwx]{9}\s+(\d*)\s+\w{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})\s(.+?)\/?$/.exec(line);
        assert.ok(match, `cls -l line: ${line}`);
        const size = expected.get(match[3]!);
        assert.ok(size !== undefined, `unexpected name in ${line}`);
        if (size === null) assert.equal(match[1], 'd');
        else assert.equal(Number(match[2]), size, line);
      }

      assert.deepEqual(sub.split('\n').filter((l) => l !== '').sort(), ['sub dir/a.txt', 'sub dir/zero.bin', 'sub dir/子目录/']);
      // The exact time, from MLSD's modify fact (UTC; the client runs with TZ=UTC).
      assert.match(time, /\s5 2024-01-02T03:04:05 old\.txt\n$/);
    }));

  test('get -a and put -a (ASCII mode) keep LF line ends on both sides', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const text = Array.from({ length: 5000 }, (_, i) => (i % 5 === 0 ? '' : `line ${i} ünïcødé 中文`)).join('\n') + '\n';
      writeFileSync(join(server.root, 'text.txt'), text);
      writeFileSync(join(local, 'lf.txt'), text);

      const run = await lftp(context, PASSIVE, [`get -a text.txt -o ${q(join(local, 'down.txt'))}`, `put -a ${q(join(local, 'lf.txt'))} -o up.txt`]);
      assertExitOk('lftp ASCII transfers', run);
      // lftp relies on TYPE A being the default (RFC 959) and never switches to TYPE I here.
      assert.ok(!run.sent.includes('TYPE I'), `sent: ${run.sent.join(' | ')}`);
      assert.equal(sha256File(join(local, 'down.txt')), sha256(text));
      assert.equal(sha256File(join(server.root, 'up.txt')), sha256(text));
    }));

  test('mget and mput expand wildcards', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'one.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'two.bin'), randomData().subarray(0, 70_000));
      writeFileSync(join(server.root, 'skip.txt'), 'not matched');
      const outgoing = join(local, 'outgoing');
      mkdirSync(outgoing);
      writeFileSync(join(outgoing, '上传 1.dat'), ALL_BYTES.subarray(0, 300));
      writeFileSync(join(outgoing, '上传 2.dat'), ALL_BYTES.subarray(300, 900));
      mkdirSync(join(local, 'incoming'));
      mkdirSync(join(server.root, 'drop'));

      const run = await lftp(context, PASSIVE, [`mget -O ${q(join(local, 'incoming'))} *.bin`, 'cd drop', `lcd ${q(outgoing)}`, 'mput *.dat']);
      assertExitOk('lftp mget/mput', run);
      assert.deepEqual(treeHashes(join(local, 'incoming')), {
        'one.bin': sha256(ALL_BYTES),
        'two.bin': sha256(randomData().subarray(0, 70_000)),
      });
      assert.deepEqual(treeHashes(join(server.root, 'drop')), treeHashes(outgoing));
    }));

  test('mkdir, mv, rm and rmdir', () =>
    withServer({}, async (context) => {
      const { server } = context;
      writeFileSync(join(server.root, 'a.bin'), ALL_BYTES);
      writeFileSync(join(server.root, SPACED_NAME), 'x');

      const run = await lftp(context, PASSIVE, [
        `mkdir -p ${q('new dir/内部/deeper')}`,
        `mv a.bin ${q(`new dir/内部/${CJK_NAME}`)}`,
        `mv ${q(SPACED_NAME)} ${q('renamed file.txt')}`,
        `rm ${q('renamed file.txt')}`,
        `rmdir ${q('new dir/内部/deeper')}`,
        'mkdir gone',
        'rm -r gone',
      ]);
      assertExitOk('lftp file management', run);
      for (const line of ['MKD new dir', 'MKD new dir/内部', 'MKD new dir/内部/deeper', `RNTO new dir/内部/${CJK_NAME}`, 'DELE renamed file.txt', 'RMD new dir/内部/deeper']) {
        assert.ok(run.sent.includes(line), `lftp sent ${JSON.stringify(line)}; sent: ${run.sent.join(' | ')}`);
      }
      assert.deepEqual(treeHashes(server.root), {
        'new dir': 'dir',
        'new dir/内部': 'dir',
        [`new dir/内部/${CJK_NAME}`]: sha256(ALL_BYTES),
      });

      const failure = await lftp(context, PASSIVE, ['rm missing.bin']);
      assert.notEqual(failure.code, 0, describeRun('rm of a missing file', failure));
      assert.ok(failure.received.some((line) => line.startsWith('550 ')));
      assert.match(failure.stderr, /rm: Access failed: 550/);
    }));

  for (const mode of [PASSIVE, MODES[2]!]) {
    test(`get -c and put -c resume partial transfers, ${mode.name}`, () =>
      withServer({}, async (context) => {
        const { server, local } = context;
        const data = randomData();
        writeFileSync(join(server.root, 'down.bin'), data);
        writeFileSync(join(local, 'down.bin'), data.subarray(0, 1_048_579));
        writeFileSync(join(server.root, 'up.bin'), data.subarray(0, 2_500_000));
        writeFileSync(join(local, 'up.bin'), data);

        const run = await lftp(context, mode, [`get -c down.bin -o ${q(join(local, 'down.bin'))}`, `put -c ${q(join(local, 'up.bin'))} -o up.bin`]);
        assertExitOk('lftp resume', run);
        assertMode('resume', run, mode);
        assert.ok(run.sent.includes('REST 1048579'), `sent: ${run.sent.join(' | ')}`);
        assert.ok(run.sent.includes('REST 2500000'), `sent: ${run.sent.join(' | ')}`);
        assert.ok(run.sent.includes('STOR up.bin'), 'lftp resumes uploads with REST + STOR');
        assert.equal(sha256File(join(local, 'down.bin')), sha256(data));
        assert.equal(sha256File(join(server.root, 'up.bin')), sha256(data));
      }));
  }

  test('the read-only user can get but not put, rm, mv or mkdir', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'data.bin'), ALL_BYTES);
      writeFileSync(join(local, 'new.bin'), 'new');

      const get = await lftp(context, PASSIVE, [`get data.bin -o ${q(join(local, 'data.bin'))}`], READONLY_USER);
      assertExitOk('read-only get', get);
      assert.equal(sha256File(join(local, 'data.bin')), sha256(ALL_BYTES));

      for (const command of [`put ${q(join(local, 'new.bin'))} -o new.bin`, 'rm data.bin', 'mv data.bin x.bin', 'mkdir dir']) {
        const run = await lftp(context, PASSIVE, [command], READONLY_USER);
        assert.notEqual(run.code, 0, describeRun(`read-only ${command}`, run));
        assert.ok(run.received.includes('550 Permission denied.'), `${command}: ${run.received.join(' | ')}`);
      }
      assert.ok(!existsSync(join(server.root, 'new.bin')));
      assert.deepEqual(treeHashes(server.root), { 'data.bin': sha256(ALL_BYTES) });
    }));

  // lftp sets upload times with MFMT when FEAT (which it reads before login) lists it,
  // else with SITE UTIME.
  test('mirror -R keeps modification times through MFMT', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      const source = join(local, 'times');
      makeTree(source, 'times');
      // Times an upload alone would not give: years back, odd seconds.
      const stamped = ['old.txt', 'all-bytes.bin', SPACED_NAME, 'sub dir/a.txt', 'sub dir/子目录/deep.bin'];
      stamped.forEach((name, i) => {
        const time = new Date(Date.UTC(2019, i, 3, 4, 5, 7 + i));
        utimesSync(join(source, name), time, time);
      });

      const run = await lftp(context, PASSIVE, [`mirror -R ${q(source)} /up`]);
      assertExitOk('lftp mirror -R', run);
      const mfmt = run.sent.filter((line) => /^MFMT \d{14} /.test(line));
      assert.ok(mfmt.length >= stamped.length, `lftp set times with MFMT:\n${describeRun('mirror -R', run)}`);
      assert.ok(run.received.some((line) => line.startsWith('213 Modify=')), run.received.join(' | '));
      for (const name of stamped) {
        const expected = Math.floor(statSync(join(source, name)).mtimeMs / 1000);
        assert.equal(Math.floor(statSync(join(server.root, 'up', name)).mtimeMs / 1000), expected, `mtime of ${name}`);
      }
    }));
});

const SKIP_IPV6 = SKIP_LFTP || ((await ipv6LoopbackAvailable()) ? false : 'this host cannot listen on the IPv6 loopback address ::1');

describe('lftp over IPv6', { skip: SKIP_IPV6 }, () => {
  test('get and put over [::1] in passive mode (EPSV)', () =>
    withServer({ host: '::1' }, async (context) => {
      const { server, local } = context;
      assert.equal(server.host, '::1');
      writeFileSync(join(server.root, 'random.bin'), randomData());
      writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES);
      // lftp switches to EPSV by itself on IPv6.
      const run = await lftp(context, PASSIVE, [`get random.bin -o ${q(join(local, 'random.bin'))}`, `put ${q(join(local, 'all-bytes.bin'))} -o up.bin`, 'cls -l']);
      assertExitOk('lftp over IPv6', run);
      assertMode('IPv6', run, { name: 'EPSV', settings: [], command: /^EPSV$/ });
      assert.equal(sha256File(join(local, 'random.bin')), sha256(randomData()));
      assert.equal(sha256File(join(server.root, 'up.bin')), sha256(ALL_BYTES));
      assert.equal(stdoutLines(run).length, 2);
    }));
});
