/**
 * FtpClient.downloadDir / uploadDir against an in-process Ferry: trees equal by hashes,
 * modification times kept both ways (MLSD modify, MFMT), parallel connections, resume,
 * filters and dry runs; symbolic links in the local tree are never followed (not when
 * the walk finds them, and not when one is swapped in later: O_NOFOLLOW).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { NoFollowFileSink, openNoFollow, setLocalTime } from '../../src/client/local-file.js';
import type { TreeEvent, TreeRefusal } from '../../src/client/tree-transfer.js';
import { treeHashes, writeTestTree } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { clientSessions, fileTimes, recorder, rejectsWith, startFerry, type FerryFixture } from './support.js';

let ferry: FerryFixture;
let local: { dir: string; remove: () => void };
const { withClient } = clientSessions(() => ({ host: ferry.host, port: ferry.port, user: USER, password: PASSWORD }));

/** Whole seconds: what FTP times carry. */
const DOWN_TIME = new Date(Date.UTC(2021, 2, 4, 5, 6, 7));
const UP_TIME = new Date(Date.UTC(2019, 10, 12, 13, 14, 15));

before(async () => {
  ferry = await startFerry();
  local = scratchDir('ferry-tree-transfer-');
  writeTestTree(join(ferry.root, 'tree'));
  setFileTimes(join(ferry.root, 'tree'), DOWN_TIME);
});

after(async () => {
  await ferry?.stop();
  local?.remove();
});

/** Sets every file's times below `dir`. */
function setFileTimes(dir: string, time: Date): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) setFileTimes(path, time);
    else if (entry.isFile()) utimesSync(path, time, time);
  }
}

function allAt(times: Record<string, number>, time: Date): Record<string, number> {
  return Object.fromEntries(Object.keys(times).map((key) => [key, time.getTime() / 1000]));
}

/** A folder outside the target with one file in it, and the hashes to check it against later. */
function outsideFolder(name: string): { dir: string; victim: string; unchanged: () => void } {
  const dir = join(local.dir, name);
  mkdirSync(dir, { recursive: true });
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'must stay as it is\n');
  const before = treeHashes(dir);
  return { dir, victim, unchanged: () => assert.deepEqual(treeHashes(dir), before, `nothing written in ${dir}`) };
}

describe('downloadDir / uploadDir against Ferry', () => {
  test('downloadDir: the tree byte-exact over 3 connections, file times from MLSD, events and counts; again with resume: all complete', async () => {
    const target = join(local.dir, 'down', 'new-folder');
    const { lines, trace } = recorder();
    const events: TreeEvent[] = [];
    const started: string[] = [];
    const finalBytes = new Map<string, number>();
    const result = await withClient({ trace }, (client) =>
      client.downloadDir('tree', target, {
        parallel: 3,
        onStart: (file) => started.push(file.path),
        onProgress: ({ path, bytes }) => finalBytes.set(path, bytes),
        onDone: (event) => events.push(event),
      }),
    );
    const source = join(ferry.root, 'tree');
    assert.deepEqual(treeHashes(target), treeHashes(source));
    assert.deepEqual(fileTimes(target), allAt(fileTimes(source), DOWN_TIME));
    const sizes = Object.fromEntries(Object.keys(fileTimes(source)).map((rel) => [rel, statSync(join(source, rel)).size]));
    assert.deepEqual(Object.fromEntries(finalBytes), sizes, 'progress reaches each size');
    assert.deepEqual(started.sort(), Object.keys(sizes).sort());
    assert.deepEqual(
      events.map((e) => [e.action, e.path, e.bytes, e.dryRun]).sort(),
      Object.entries(sizes).map(([path, size]) => ['transfer', path, size, false]).sort(),
    );
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    assert.deepEqual({ ...result, elapsedMs: 0 }, { transferred: 4, skipped: 0, deleted: 0, refused: 0, bytes: total, elapsedMs: 0 });
    assert.equal(lines.filter((l) => l === `---> USER ${USER}`).length, 3, 'two more connections');

    const again = await withClient({}, (client) => client.downloadDir('tree', target, { resume: true }));
    assert.deepEqual({ ...again, elapsedMs: 0 }, { transferred: 0, skipped: 4, deleted: 0, refused: 0, bytes: 0, elapsedMs: 0 });
  });

  test('uploadDir: the tree byte-exact into a new nested folder, remote times set with MFMT; symbolic links are not uploaded', async () => {
    const source = join(local.dir, 'up-source');
    writeTestTree(source);
    setFileTimes(source, UP_TIME);
    const expected = treeHashes(source);
    const outside = outsideFolder('up-outside');
    symlinkSync(outside.victim, join(source, 'link.txt'));
    symlinkSync(outside.dir, join(source, 'sub dir', 'linked-dir'));
    const refusals: TreeRefusal[] = [];
    const { lines, trace } = recorder();
    const result = await withClient({ trace }, (client) => client.uploadDir(source, 'uploaded/nested', { onRefused: (r) => refusals.push(r) }));
    const remote = join(ferry.root, 'uploaded', 'nested');
    assert.deepEqual(treeHashes(remote), expected);
    assert.deepEqual(fileTimes(remote), allAt(fileTimes(remote), UP_TIME));
    assert.ok(lines.some((l) => /^---> MFMT 20191112131415 uploaded\/nested\/all-bytes\.bin$/.test(l)), 'MFMT after STOR');
    assert.deepEqual(refusals.map((r) => [r.directory, r.name]).sort(), [['', 'link.txt'], ['sub dir', 'linked-dir']]);
    assert.equal(result.refused, 2);
    assert.equal(result.transferred, 4);
  });

  test('downloadDir does not write through a symbolic link in the target (a file or a folder), and with delete replaces the links', async () => {
    const outside = outsideFolder('link-outside');
    const target = join(local.dir, 'link-target');
    mkdirSync(target);
    symlinkSync(outside.victim, join(target, 'all-bytes.bin'));
    symlinkSync(outside.dir, join(target, 'sub dir'));
    const refusals: TreeRefusal[] = [];
    const result = await withClient({}, (client) => client.downloadDir('tree', target, { onRefused: (r) => refusals.push(r) }));
    outside.unchanged();
    assert.deepEqual(refusals.map((r) => [r.name, r.reason]).sort(), [
      ['all-bytes.bin', 'the target is a symbolic link or special file (not replaced without --delete)'],
      ['sub dir', 'the target is a symbolic link or special file (not replaced without --delete)'],
    ]);
    assert.equal(result.transferred, 1, 'random.bin only');

    const replaced = await withClient({}, (client) => client.downloadDir('tree', target, { delete: true }));
    outside.unchanged();
    assert.deepEqual(treeHashes(target), treeHashes(join(ferry.root, 'tree')), 'real files and folders where the links were');
    assert.equal(replaced.deleted, 2);
  });

  test('filter: a folder left out with all in it; dryRun: events, counts, and nothing changed on either side; a missing remote folder is not-found', async () => {
    const filtered = join(local.dir, 'filtered');
    const seen: Array<[string, boolean]> = [];
    await withClient({}, (client) =>
      client.downloadDir('tree', filtered, {
        filter: (path, isDirectory) => {
          seen.push([path, isDirectory]);
          return path !== 'sub dir' && path !== 'random.bin';
        },
      }),
    );
    assert.deepEqual(Object.keys(treeHashes(filtered)).sort(), ['all-bytes.bin', 'empty']);
    assert.ok(!seen.some(([path]) => path.startsWith('sub dir/')), 'nothing below a left-out folder is listed');

    const dryTarget = join(local.dir, 'dry', 'target');
    const events: TreeEvent[] = [];
    const dry = await withClient({}, (client) => client.downloadDir('tree', dryTarget, { dryRun: true, onDone: (e) => events.push(e) }));
    assert.ok(!existsSync(join(local.dir, 'dry')), 'no folder made');
    assert.equal(dry.transferred, 4);
    assert.ok(events.length === 4 && events.every((e) => e.dryRun && e.action === 'transfer'));

    const remoteBefore = treeHashes(join(ferry.root, 'tree'));
    const upEvents: TreeEvent[] = [];
    const dryUp = await withClient({}, (client) => client.uploadDir(filtered, 'tree', { dryRun: true, delete: true, onDone: (e) => upEvents.push(e) }));
    assert.deepEqual(treeHashes(join(ferry.root, 'tree')), remoteBefore, 'the server is unchanged');
    assert.deepEqual(upEvents.filter((e) => e.action === 'delete').map((e) => e.path).sort(), ['random.bin', 'sub dir']);
    assert.equal(dryUp.deleted, 2);

    const missing = join(local.dir, 'missing-target');
    await withClient({}, async (client) => {
      await rejectsWith(client.downloadDir('no-such-folder', missing), 'not-found', 550);
      assert.ok(!existsSync(missing), 'no local folder for a missing remote one');
      assert.ok((await client.list('tree')).length > 0, 'the connection still works');
    });
  });

  test('a missing local source is not-found, never an empty tree: uploadDir with delete leaves the server as it is', async () => {
    const remoteBefore = treeHashes(join(ferry.root, 'tree'));
    const typo = join(local.dir, 'no-such-source');
    await withClient({}, async (client) => {
      const error = await rejectsWith(client.uploadDir(typo, 'tree', { delete: true }), 'not-found');
      assert.match(error.message, /No such file or directory/);
      await rejectsWith(client.uploadDir(typo, 'tree', { delete: true, dryRun: true }), 'not-found');
    });
    assert.deepEqual(treeHashes(join(ferry.root, 'tree')), remoteBefore, 'nothing deleted on the server');
  });

  test('a remote source that is a file is refused before planning: downloadDir with delete leaves the target as it is', async () => {
    const target = join(local.dir, 'file-as-source');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'keep.txt'), 'keep\n');
    await withClient({}, async (client) => {
      const error = await rejectsWith(client.downloadDir('tree/all-bytes.bin', target, { delete: true }), 'not-found');
      assert.match(error.message, /Not a directory/);
    });
    assert.deepEqual(Object.keys(treeHashes(target)), ['keep.txt']);
  });

  test('a symbolic link swapped in after the walk is not followed: the file sink, setLocalTime and openNoFollow fail with ELOOP', async () => {
    const outside = outsideFolder('nofollow-outside');
    const link = join(local.dir, 'swapped-link');
    symlinkSync(outside.victim, link);
    await assert.rejects(pipeline(Readable.from([Buffer.from('overwritten')]), new NoFollowFileSink(link)), { code: 'ELOOP' });
    await assert.rejects(pipeline(Readable.from([Buffer.from('appended')]), new NoFollowFileSink(link, 5)), { code: 'ELOOP' });
    await assert.rejects(setLocalTime(link, DOWN_TIME), { code: 'ELOOP' });
    await assert.rejects(openNoFollow(link), { code: 'ELOOP' });
    outside.unchanged();
    assert.notEqual(Math.floor(statSync(outside.victim).mtimeMs / 1000), DOWN_TIME.getTime() / 1000);
    // The sink itself writes, resumes at an offset, and makes an empty file.
    const real = join(local.dir, 'sink.bin');
    await pipeline(Readable.from([Buffer.from('hello world')]), new NoFollowFileSink(real));
    await pipeline(Readable.from([Buffer.from('WORLD!')]), new NoFollowFileSink(real, 6));
    assert.equal(readFileSync(real, 'utf8'), 'hello WORLD!');
    const empty = join(local.dir, 'empty.bin');
    await pipeline(Readable.from([]), new NoFollowFileSink(empty));
    assert.equal(readFileSync(empty).length, 0);
  });
});
