/**
 * LocalStorage hardening: restart offsets beyond the end, in-place writes rolled back to
 * the previous size, reserved temp names, links moved by RNTO, and the temp sweeper.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpError, type ErrorCode } from '../../src/errors.js';
import { LocalStorage } from '../../src/storage/local.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { sweepUploadTemps } from '../../src/storage/temp-sweeper.js';
import { uploadTempName } from '../../src/storage/upload-temp.js';

const base = scratchDirForFile('ferry-hardening-');
let count = 0;

const HELLO = 'hello world';

function makeRoot(): { root: string; storage: LocalStorage } {
  const root = join(base(), `root-${++count}`, 'root');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  writeFileSync(join(root, 'hello.txt'), HELLO);
  return { root, storage: new LocalStorage(root) };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, reply: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FtpError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.reply, reply);
    return true;
  });
}

function write(stream: Writable, data: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (error) => (error ? reject(error) : resolve())));
}

describe('restart offsets and in-place writes', () => {
  test('REST beyond the end of a file is refused before anything is written', async () => {
    const { root, storage } = makeRoot();
    await rejectsWith(storage.write('/hello.txt', { start: 1_000_000_000_000 }), 'FERRY_ERR_BAD_RESTART', 554);
    await rejectsWith(storage.write('/hello.txt', { start: HELLO.length + 1 }), 'FERRY_ERR_BAD_RESTART', 554);
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), HELLO);
  });

  test('REST on a missing file is refused and creates nothing', async () => {
    const { root, storage } = makeRoot();
    await rejectsWith(storage.write('/missing.txt', { start: 999_999_999_999_999 }), 'FERRY_ERR_BAD_RESTART', 554);
    assert.equal(existsSync(join(root, 'missing.txt')), false);
  });

  test('REST exactly at the end is allowed', async () => {
    const { root, storage } = makeRoot();
    const upload = await storage.write('/hello.txt', { start: HELLO.length });
    await new Promise<void>((resolve) => upload.stream.end('!', () => resolve()));
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), `${HELLO}!`);
  });

  test('an aborted APPE or REST+STOR puts the file back to its previous size', async () => {
    const { root, storage } = makeRoot();
    for (const options of [{ append: true }, { start: 6 }]) {
      const upload = await storage.write('/hello.txt', options);
      await write(upload.stream, 'a partial write that must not stay');
      await upload.abort();
      assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8').length, HELLO.length, JSON.stringify(options));
    }
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), 'hello a par'); // REST+STOR overwrote from 6, then cut back
  });

  test('an aborted APPE to a new file removes it; abort after commit changes nothing', async () => {
    const { root, storage } = makeRoot();
    const aborted = await storage.write('/new.txt', { append: true });
    await write(aborted.stream, 'partial');
    await aborted.abort();
    assert.equal(existsSync(join(root, 'new.txt')), false);
    const committed = await storage.write('/hello.txt', { append: true });
    await new Promise<void>((resolve) => committed.stream.end('!', () => resolve()));
    await committed.commit();
    await committed.abort();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), `${HELLO}!`);
  });
});

describe('reserved temp names and moved links', () => {
  test('every operation refuses a path with a temp-prefixed component (553)', async () => {
    const { storage } = makeRoot();
    const name = '/.ferry-upload-x.tmp';
    await rejectsWith(storage.stat(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.read(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.write(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.write(`/a${name}/x`), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.list(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.mkdir(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.delete(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.rmdir(name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.rename('/hello.txt', name), 'FERRY_ERR_BAD_NAME', 553);
    await rejectsWith(storage.rename(name, '/x'), 'FERRY_ERR_BAD_NAME', 553);
  });

  test('RNTO judges a relative link from where it lands', async () => {
    const { root, storage } = makeRoot();
    // From a/b, "../../hello.txt" is the root's hello.txt; from the root it is outside.
    symlinkSync('../../hello.txt', join(root, 'a', 'b', 'up'));
    await rejectsWith(storage.rename('/a/b/up', '/up'), 'FERRY_ERR_PERMISSION', 550);
    assert.ok(lstatSync(join(root, 'a', 'b', 'up')).isSymbolicLink());
    // A link that still points inside from its new place moves.
    symlinkSync('hello.txt', join(root, 'near'));
    await storage.rename('/near', '/a/../near2');
    await storage.rename('/a/b/up', '/a/b/up2');
    assert.ok(lstatSync(join(root, 'a', 'b', 'up2')).isSymbolicLink());
  });
});

describe('replacing a file', () => {
  test('STOR onto a link to a directory is refused like the directory, and the link stays', async () => {
    const { root, storage } = makeRoot();
    symlinkSync('a', join(root, 'to-a'));
    await rejectsWith(storage.write('/to-a'), 'FERRY_ERR_IS_A_DIRECTORY', 550);
    assert.ok(lstatSync(join(root, 'to-a')).isSymbolicLink());
  });

  test('keeps its mode but never its setuid/setgid bits (uploaded content must not become setuid)', async () => {
    const { root, storage } = makeRoot();
    const target = join(root, 'tool');
    writeFileSync(target, 'old');
    chmodSync(target, 0o6755);
    const upload = await storage.write('/tool');
    await write(upload.stream, 'new content');
    upload.stream.end();
    await upload.commit();
    assert.equal(readFileSync(target, 'utf8'), 'new content');
    assert.equal(lstatSync(target).mode & 0o7777, 0o755);
  });
});

describe('temp sweeper', () => {
  test('removes temp files of dead processes and old ones, keeps live ones, never follows links', async () => {
    const dir = join(base(), `sweep-${++count}`);
    const root = join(dir, 'root');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(root, 'deep', 'er'), { recursive: true });
    mkdirSync(elsewhere);
    const dead = '.ferry-upload-4194304999-ab.tmp'; // beyond pid_max: no such process
    const live = uploadTempName(); // this process
    const oldLive = uploadTempName();
    writeFileSync(join(root, 'deep', 'er', dead), 'x');
    writeFileSync(join(root, live), 'x');
    writeFileSync(join(root, oldLive), 'x');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(root, oldLive), old, old);
    writeFileSync(join(elsewhere, dead), 'x');
    symlinkSync(elsewhere, join(root, 'link'));
    writeFileSync(join(root, 'user.txt'), 'kept');

    const result = await sweepUploadTemps({ roots: [root, join(root, 'deep')], maxAgeMs: 600_000 });
    assert.deepEqual(result.removed.sort(), [join(root, 'deep', 'er', dead), join(root, oldLive)].sort());
    assert.ok(existsSync(join(root, live)));
    assert.ok(existsSync(join(elsewhere, dead)), 'followed a link out of the root');
    assert.ok(existsSync(join(root, 'user.txt')));
    assert.equal(result.truncated, false);

    // At start-up a file named with this process's own pid is a previous run's (pid 1 in a container).
    const atStart = await sweepUploadTemps({ roots: [root], maxAgeMs: 600_000, ownPidIsStale: true });
    assert.deepEqual(atStart.removed, [join(root, live)]);

    const bounded = await sweepUploadTemps({ roots: [root], maxAgeMs: 600_000, maxEntries: 2 });
    assert.equal(bounded.scanned, 2);
    assert.equal(bounded.truncated, true);
  });
});
