/**
 * `ferry mirror` (the real binary, no terminal) against an in-process Ferry: down and up
 * with -P 3 and -c, lftp's argument order and the older -R URL LOCALDIR, --delete,
 * --only-newer, --include/--exclude, --dry-run, modification times kept both ways, the
 * per-file lines and the summary line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { ferryUrl, fileTimes, hashTree, ok, randomData, runFerry, startFerry, type CliResult, type FerryFixture } from './support.js';

let ferry: FerryFixture;
let local: { dir: string; remove: () => void };
const env = { FERRY_PASSWORD: PASSWORD };

/** Whole seconds: what FTP times carry. */
const T0 = new Date(Date.UTC(2022, 4, 6, 7, 8, 9));
const T1 = new Date(Date.UTC(2023, 0, 2, 3, 4, 5));

before(async () => {
  ferry = await startFerry();
  local = scratchDir('ferry-cli-mirror-');
});

after(async () => {
  await ferry?.stop();
  local?.remove();
});

const url = (path = ''): string => ferryUrl(ferry.port, path);

/** A fresh local folder's path (not created). */
function localDir(name: string): string {
  return join(local.dir, name);
}

/** Stdout lines starting with `prefix`, sorted. */
function linesOf(result: CliResult, prefix: string): string[] {
  return result.stdout
    .toString()
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .sort();
}

function summaryOf(result: CliResult): string {
  const lines = linesOf(result, 'mirror: ');
  assert.equal(lines.length, 1, result.describe());
  return lines[0]!;
}

/** A small tree with nested folders, an empty file, binary and a few MiB: 12 files. */
function makeTree(base: string): void {
  mkdirSync(join(base, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(base, 'empty-dir'), { recursive: true });
  writeFileSync(join(base, 'top.txt'), 'top level\n');
  writeFileSync(join(base, 'empty.bin'), '');
  writeFileSync(join(base, 'all-bytes.bin'), ALL_BYTES);
  writeFileSync(join(base, 'sub', 'random.bin'), randomData());
  writeFileSync(join(base, 'sub', 'name with spaces.txt'), 'spaces\n');
  writeFileSync(join(base, 'sub', 'deeper', 'leaf.txt'), 'leaf\n');
  for (let i = 0; i < 6; i++) writeFileSync(join(base, 'sub', `small-${i}.txt`), `small ${i}\n`.repeat(i * 100 + 1));
}

/** Four small files, two folders deep, and an empty folder; every file at `time`. */
function smallTree(base: string, time = T0): void {
  mkdirSync(join(base, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(base, 'empty-dir'), { recursive: true });
  writeFileSync(join(base, 'a.txt'), 'a\n');
  writeFileSync(join(base, 'b.bin'), ALL_BYTES);
  writeFileSync(join(base, 'sub', 'c.txt'), 'c\n');
  writeFileSync(join(base, 'sub', 'deeper', 'd.txt'), 'd\n');
  for (const file of ['a.txt', 'b.bin', 'sub/c.txt', 'sub/deeper/d.txt']) utimesSync(join(base, file), time, time);
}

const SUMMARY = /^mirror: (\d+) files? \((\d+) skipped, (\d+) deleted\), [\d.]+ (?:B|kB|MB|GB) in [\d.]+ s, [\d.]+ (?:B|kB|MB|GB)\/s$/;

describe('ferry mirror against Ferry', () => {
  test('down and -R up with -P 3 (trees equal by hashes); -c skips complete files and resumes partial ones; the summary line', async () => {
    const source = join(ferry.root, 'tree');
    makeTree(source);
    const down = localDir('mirror-down');
    const first = ok(await runFerry(['mirror', '-P', '3', '-d', url('tree'), down], { env }));
    assert.deepEqual(hashTree(down), hashTree(source), first.describe());
    assert.equal(first.stderr.split('\n').filter((l) => l === `---> USER ${USER}`).length, 3, 'three connections');
    assert.equal(linesOf(first, 'downloaded ').length, 12, first.describe());
    assert.match(linesOf(first, 'downloaded tree/sub/random.bin ')[0] ?? '', new RegExp(`^downloaded tree/sub/random\\.bin \\(${randomData().length} bytes, [\\d.]+ [kM]B/s\\)$`));
    const summary = SUMMARY.exec(summaryOf(first));
    assert.deepEqual(summary?.slice(1, 4), ['12', '0', '0'], first.describe());
    assert.match(summaryOf(first), / 3\.\d MB in /, 'bytes: the tree is a little over 3 MB');
    // Again with -c: nothing to do.
    const again = ok(await runFerry(['mirror', '-c', '-P', '3', url('tree'), down], { env }));
    assert.equal(linesOf(again, 'skipped ').length, 12, again.describe());
    assert.equal(linesOf(again, 'downloaded ').length, 0, again.describe());
    assert.match(summaryOf(again), /^mirror: 0 files \(12 skipped, 0 deleted\), 0 B in /);
    // A partial file and a missing file: resumed and fetched.
    truncateSync(join(down, 'sub', 'random.bin'), 100_000);
    rmSync(join(down, 'sub', 'deeper', 'leaf.txt'));
    const resumed = ok(await runFerry(['mirror', '-c', '-P', '3', '-d', url('tree'), down], { env }));
    assert.deepEqual(hashTree(down), hashTree(source), resumed.describe());
    assert.match(resumed.stderr, /^---> REST 100000$/m, resumed.describe());
    assert.equal(linesOf(resumed, 'downloaded ').length, 2, resumed.describe());
    // Parallel: one connection per file still to transfer, at most -P (the extra ones reuse the first one's login, no new prompt).
    assert.equal(resumed.stderr.split('\n').filter((l) => l === `---> USER ${USER}`).length, 2, resumed.describe());

    // Up: a local tree into a new remote folder, in lftp's order (-R LOCALDIR URL).
    const up = localDir('mirror-up');
    makeTree(up);
    writeFileSync(join(up, 'only-local.txt'), 'local\n');
    const upload = ok(await runFerry(['mirror', '-R', '-P', '3', up, url('uploaded')], { env }));
    assert.deepEqual(hashTree(join(ferry.root, 'uploaded')), hashTree(up), upload.describe());
    assert.equal(linesOf(upload, 'uploaded ').length, 13, upload.describe());
    const upAgain = ok(await runFerry(['mirror', '-R', '-c', '-P', '3', up, url('uploaded')], { env }));
    assert.equal(linesOf(upAgain, 'skipped ').length, 13, upAgain.describe());
    assert.equal(linesOf(upAgain, 'uploaded ').length, 0, upAgain.describe());
    truncateSync(join(ferry.root, 'uploaded', 'sub', 'random.bin'), 12_345);
    const upResumed = ok(await runFerry(['mirror', '-R', '-c', '-P', '3', '-d', up, url('uploaded')], { env }));
    assert.match(upResumed.stderr, /^---> REST 12345$/m, upResumed.describe());
    assert.deepEqual(hashTree(join(ferry.root, 'uploaded')), hashTree(up));
    const badParallel = await runFerry(['mirror', '-P', '0', url('tree'), down], { env });
    assert.equal(badParallel.code, 2, badParallel.describe());
  });

  test('argument order: -R LOCALDIR URL and the older -R URL LOCALDIR both upload; the URL second without -R, two URLs or none are usage errors', async () => {
    const up = localDir('order-up');
    smallTree(up);
    ok(await runFerry(['mirror', '-R', up, url('order-new')], { env }));
    assert.deepEqual(hashTree(join(ferry.root, 'order-new')), hashTree(up));
    ok(await runFerry(['mirror', '-R', url('order-old'), up], { env }));
    assert.deepEqual(hashTree(join(ferry.root, 'order-old')), hashTree(up));
    // Download: URL first.
    const down = localDir('order-down');
    ok(await runFerry(['mirror', url('order-new'), down], { env }));
    assert.deepEqual(hashTree(down), hashTree(up));

    const urlSecond = await runFerry(['mirror', up, url('order-wrong')], { env });
    assert.equal(urlSecond.code, 2, urlSecond.describe());
    assert.match(urlSecond.stderr, /ferry mirror -R LOCALDIR URL/, urlSecond.describe());
    assert.ok(!existsSync(join(ferry.root, 'order-wrong')));
    const twoUrls = await runFerry(['mirror', url('order-new'), url('x')], { env });
    assert.equal(twoUrls.code, 2, twoUrls.describe());
    const noUrl = await runFerry(['mirror', '-R', up, localDir('x')], { env });
    assert.equal(noUrl.code, 2, noUrl.describe());
  });

  test('modification times kept both ways (to the second): local times from MLSD, remote times by MFMT', async () => {
    const remote = join(ferry.root, 'times-down');
    smallTree(remote, T0);
    const down = localDir('times-down');
    ok(await runFerry(['mirror', url('times-down'), down], { env }));
    const expectedDown = Object.fromEntries(Object.keys(fileTimes(remote)).map((file) => [file, T0.getTime() / 1000]));
    assert.deepEqual(fileTimes(down), expectedDown);

    const up = localDir('times-up');
    smallTree(up, T1);
    const result = ok(await runFerry(['mirror', '-R', '-d', up, url('times-up')], { env }));
    assert.match(result.stderr, /^---> MFMT 20230102030405 times-up\/sub\/deeper\/d\.txt$/m, result.describe());
    const expectedUp = Object.fromEntries(Object.keys(fileTimes(up)).map((file) => [file, T1.getTime() / 1000]));
    assert.deepEqual(fileTimes(join(ferry.root, 'times-up')), expectedUp);
  });

  test('--only-newer: after touching one source file, only it is transferred, both ways; a newer target of another size is kept (lftp -n)', async () => {
    const remote = join(ferry.root, 'newer');
    smallTree(remote, T0);
    const down = localDir('newer-down');
    ok(await runFerry(['mirror', url('newer'), down], { env }));
    utimesSync(join(remote, 'sub', 'c.txt'), T1, T1);
    writeFileSync(join(down, 'a.txt'), 'changed locally, another size\n');
    utimesSync(join(down, 'a.txt'), T1, T1);
    const edited = hashTree(down).get('a.txt');
    const result = ok(await runFerry(['mirror', '--only-newer', url('newer'), down], { env }));
    assert.deepEqual(linesOf(result, 'downloaded ').map((l) => l.split(' ')[1]), ['newer/sub/c.txt'], result.describe());
    assert.deepEqual(linesOf(result, 'skipped ').map((l) => l.split(' ')[1]), ['newer/a.txt', 'newer/b.bin', 'newer/sub/deeper/d.txt'], result.describe());
    const expected = hashTree(remote);
    expected.set('a.txt', edited!);
    assert.deepEqual(hashTree(down), expected, 'the newer local a.txt is kept');
    assert.equal(fileTimes(down)['sub/c.txt'], T1.getTime() / 1000);
    assert.deepEqual(SUMMARY.exec(summaryOf(result))?.slice(1, 4), ['1', '3', '0']);

    // Up: touch one local file.
    ok(await runFerry(['mirror', '-R', down, url('newer-up')], { env }));
    utimesSync(join(down, 'b.bin'), T1, T1);
    const upResult = ok(await runFerry(['mirror', '-R', '-n', down, url('newer-up')], { env }));
    assert.deepEqual(linesOf(upResult, 'uploaded ').map((l) => l.split(' ')[1]), ['newer-up/b.bin'], upResult.describe());
    assert.equal(linesOf(upResult, 'skipped ').length, 3, upResult.describe());
  });

  test('--delete removes what the source does not have, both ways (but never what --exclude leaves out)', async () => {
    const remote = join(ferry.root, 'del');
    smallTree(remote);
    const down = localDir('del-down');
    smallTree(down);
    writeFileSync(join(down, 'extra.txt'), 'not on the server\n');
    mkdirSync(join(down, 'extra-dir', 'inner'), { recursive: true });
    writeFileSync(join(down, 'extra-dir', 'inner', 'x.txt'), 'x\n');
    writeFileSync(join(down, 'keep.log'), 'excluded, so kept\n');
    const result = ok(await runFerry(['mirror', '--delete', '-X', '*.log', url('del'), down], { env }));
    assert.deepEqual(linesOf(result, 'deleted '), [`deleted ${join(down, 'extra-dir')}/`, `deleted ${join(down, 'extra.txt')}`], result.describe());
    const expected = hashTree(remote);
    expected.set('keep.log', hashTree(down).get('keep.log')!);
    assert.deepEqual(hashTree(down), expected);
    assert.deepEqual(SUMMARY.exec(summaryOf(result))?.slice(1, 4), ['4', '0', '2']);

    // Up: the server has extra entries.
    writeFileSync(join(remote, 'server-only.bin'), ALL_BYTES);
    mkdirSync(join(remote, 'server-dir', 'nested'), { recursive: true });
    writeFileSync(join(remote, 'server-dir', 'nested', 'y.txt'), 'y\n');
    rmSync(join(down, 'keep.log'));
    const up = ok(await runFerry(['mirror', '-R', '-e', down, url('del')], { env }));
    assert.deepEqual(linesOf(up, 'deleted '), ['deleted del/server-dir/', 'deleted del/server-only.bin'], up.describe());
    assert.deepEqual(hashTree(remote), hashTree(down));
  });

  test('mirror -R --delete with a local folder that does not exist fails with exit 4 and deletes nothing on the server', async () => {
    const remote = join(ferry.root, 'typo');
    smallTree(remote);
    const before = hashTree(remote);
    const result = await runFerry(['mirror', '-R', '--delete', localDir('tpyo'), url('typo')], { env });
    assert.equal(result.code, 4, result.describe());
    assert.match(result.stderr, /tpyo: No such file or directory/, result.describe());
    assert.deepEqual(hashTree(remote), before, 'the server is unchanged');
  });

  test('--exclude and --include: globs over the relative path (* within a folder, ** across, a name at any depth, a trailing / for folders)', async () => {
    const remote = join(ferry.root, 'globs');
    smallTree(remote);
    const excluded = localDir('globs-excluded');
    ok(await runFerry(['mirror', '--exclude', 'sub/deeper/', '--exclude', '**/*.bin', url('globs'), excluded], { env }));
    assert.deepEqual([...hashTree(excluded).keys()].sort(), ['a.txt', 'empty-dir/', 'sub/', 'sub/c.txt']);
    const included = localDir('globs-included');
    ok(await runFerry(['mirror', '-I', '**/*.txt', '-X', 'a.txt', url('globs'), included], { env }));
    assert.deepEqual([...hashTree(included).keys()].sort(), ['empty-dir/', 'sub/', 'sub/c.txt', 'sub/deeper/', 'sub/deeper/d.txt']);
    const topOnly = localDir('globs-top');
    ok(await runFerry(['mirror', '-I', '/*.txt', url('globs'), topOnly], { env }));
    assert.deepEqual([...hashTree(topOnly).keys()].filter((k) => !k.endsWith('/')), ['a.txt'], 'a leading / anchors at the top');
    const anyDepth = localDir('globs-any');
    ok(await runFerry(['mirror', '-X', '*.txt', url('globs'), anyDepth], { env }));
    assert.ok([...hashTree(anyDepth).keys()].every((k) => !k.endsWith('.txt')), 'a name without / matches at any depth');
  });

  test('--dry-run prints what would be done and changes nothing, on disk or on the server', async () => {
    const remote = join(ferry.root, 'dry');
    smallTree(remote);
    const down = localDir('dry-down');
    mkdirSync(down);
    writeFileSync(join(down, 'extra.txt'), 'extra\n');
    writeFileSync(join(down, 'a.txt'), 'a\n');
    utimesSync(join(down, 'a.txt'), T0, T0);
    const before = hashTree(down);
    const result = ok(await runFerry(['mirror', '--dry-run', '--delete', '-c', url('dry'), down], { env }));
    assert.deepEqual(hashTree(down), before, 'nothing changed locally');
    assert.deepEqual(linesOf(result, 'would download ').map((l) => l.split(' ')[2]), ['dry/b.bin', 'dry/sub/c.txt', 'dry/sub/deeper/d.txt'], result.describe());
    assert.deepEqual(linesOf(result, 'would delete '), [`would delete ${join(down, 'extra.txt')}`]);
    assert.deepEqual(linesOf(result, 'would skip '), ['would skip dry/a.txt (complete)']);
    assert.equal(linesOf(result, 'downloaded ').length, 0);
    assert.match(summaryOf(result), /^mirror: dry run, nothing changed: would transfer 3 files \(1 skipped, 1 deleted\), 65\.8 kB$/);

    const remoteBefore = hashTree(remote);
    const up = localDir('dry-up');
    mkdirSync(join(up, 'new-dir'), { recursive: true });
    writeFileSync(join(up, 'new-dir', 'n.txt'), 'new\n');
    const upResult = ok(await runFerry(['mirror', '-R', '--dry-run', '--delete', up, url('dry')], { env }));
    assert.deepEqual(hashTree(remote), remoteBefore, 'nothing changed on the server');
    assert.deepEqual(linesOf(upResult, 'would upload '), ['would upload dry/new-dir/n.txt (4 bytes)'], upResult.describe());
    assert.equal(linesOf(upResult, 'would delete ').length, 4, upResult.describe());
    const toNowhere = ok(await runFerry(['mirror', '-R', '--dry-run', up, url('dry-nowhere/deep')], { env }));
    assert.equal(linesOf(toNowhere, 'would upload ').length, 1, toNowhere.describe());
    assert.ok(!existsSync(join(ferry.root, 'dry-nowhere')), 'no remote folder made');
  });
});
