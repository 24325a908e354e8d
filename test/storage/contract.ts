/**
 * The storage contract: what every StorageBackend does the same way, whatever keeps the
 * bytes (a folder, an S3 bucket). Each backend's test file runs it with a factory of
 * fresh, empty backends; behaviour a backend adds on top is tested in its own file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import type { ErrorCode } from '../../src/errors.js';
import type { StorageBackend, Upload } from '../../src/storage/backend.js';

/** Writes `data` through the upload's stream and waits until the stream has taken all of it. */
export function writeAll(upload: Upload, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    upload.stream.once('error', reject);
    upload.stream.end(data, () => resolve());
  });
}

/** A whole-file STOR: write, then commit. */
export async function putFile(storage: StorageBackend, path: string, data: Buffer | string): Promise<void> {
  const upload = await storage.write(path);
  await writeAll(upload, data);
  await upload.commit();
}

export async function readText(storage: StorageBackend, path: string, start = 0): Promise<string> {
  const download = await storage.read(path, { start });
  try {
    return await text(download.stream);
  } finally {
    download.stream.destroy();
  }
}

export async function sha256Of(storage: StorageBackend, path: string): Promise<string> {
  const download = await storage.read(path);
  const hash = createHash('sha256');
  for await (const chunk of download.stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function names(storage: StorageBackend, path: string): Promise<string[]> {
  return (await storage.list(path)).map((entry) => `${entry.name}${entry.type === 'directory' ? '/' : ''}`).sort();
}

function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  return assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, code);
    return true;
  });
}

/** Names that break naive key or URL handling: spaces, non-ASCII, "%" and "+". */
export const AWKWARD_NAMES = ['with space.txt', 'ünïcødé-日本語.txt', '100% sure.txt', 'a+b=c.txt', "quote'&amp;.txt"];

export function storageContract(label: string, fresh: () => Promise<StorageBackend>, options: { skip?: string | false } = {}): void {
  describe(`storage contract: ${label}`, { skip: options.skip }, () => {
    test('"/" is a directory; a missing path is not found', async () => {
      const storage = await fresh();
      assert.equal((await storage.stat('/')).type, 'directory');
      assert.deepEqual(await storage.list('/'), []);
      await rejectsWith(storage.stat('/missing.txt'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.stat('/missing/deeper'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.read('/missing.txt'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.list('/missing'), 'FERRY_ERR_NOT_FOUND');
    });

    test('stat and list show files with their sizes and directories as directories', async () => {
      const storage = await fresh();
      await putFile(storage, '/a.txt', 'hello');
      await putFile(storage, '/empty.bin', '');
      await storage.mkdir('/docs');
      await putFile(storage, '/docs/inner.txt', '12345678');
      const a = await storage.stat('/a.txt');
      assert.deepEqual({ name: a.name, type: a.type, size: a.size }, { name: 'a.txt', type: 'file', size: 5 });
      assert.ok(Math.abs(a.mtime.getTime() - Date.now()) < 5 * 60_000, `mtime ${a.mtime.toISOString()} is about now`);
      assert.equal((await storage.stat('/empty.bin')).size, 0);
      const docs = await storage.stat('/docs');
      assert.deepEqual({ name: docs.name, type: docs.type }, { name: 'docs', type: 'directory' });
      assert.deepEqual(await names(storage, '/'), ['a.txt', 'docs/', 'empty.bin']);
      const inner = await storage.list('/docs');
      assert.deepEqual(inner.map((entry) => [entry.name, entry.type, entry.size]), [['inner.txt', 'file', 8]]);
      await rejectsWith(storage.list('/a.txt'), 'FERRY_ERR_NOT_A_DIRECTORY');
    });

    test('a listing stops at maxEntries and says it was truncated', async () => {
      const storage = await fresh();
      for (let i = 0; i < 5; i++) await putFile(storage, `/f${i}.txt`, String(i));
      const cut = await storage.list('/', { maxEntries: 3 });
      assert.equal(cut.length, 3);
      assert.equal(cut.truncated, true);
      assert.equal(new Set(cut.map((entry) => entry.name)).size, 3);
      const whole = await storage.list('/', { maxEntries: 5 });
      assert.equal(whole.length, 5);
      assert.ok(!whole.truncated, 'exactly maxEntries entries is not truncated');
    });

    test('read from an offset gives the rest; at the end nothing; beyond it a bad restart', async () => {
      const storage = await fresh();
      await putFile(storage, '/digits.txt', '0123456789');
      const whole = await storage.read('/digits.txt');
      whole.stream.destroy();
      assert.deepEqual({ size: whole.size, start: whole.start }, { size: 10, start: 0 });
      assert.equal(await readText(storage, '/digits.txt'), '0123456789');
      assert.equal(await readText(storage, '/digits.txt', 4), '456789');
      const resumed = await storage.read('/digits.txt', { start: 4 });
      resumed.stream.destroy();
      assert.deepEqual({ size: resumed.size, start: resumed.start }, { size: 10, start: 4 });
      assert.equal(await readText(storage, '/digits.txt', 10), '');
      await rejectsWith(storage.read('/digits.txt', { start: 11 }), 'FERRY_ERR_BAD_RESTART');
    });

    test('an upload is invisible until commit; abort leaves nothing new and the previous file intact', async () => {
      const storage = await fresh();
      await putFile(storage, '/keep.txt', 'version one');
      const replacing = await storage.write('/keep.txt');
      await writeAll(replacing, 'version two, longer');
      assert.equal(await readText(storage, '/keep.txt'), 'version one', 'the bytes of an uncommitted upload are not visible');
      await replacing.abort();
      assert.equal(await readText(storage, '/keep.txt'), 'version one');
      assert.equal((await storage.stat('/keep.txt')).size, 11);

      const created = await storage.write('/new.txt');
      created.stream.write('partial');
      await created.abort();
      await rejectsWith(storage.stat('/new.txt'), 'FERRY_ERR_NOT_FOUND');
      assert.deepEqual(await names(storage, '/'), ['keep.txt']);

      const replaced = await storage.write('/keep.txt');
      await writeAll(replaced, 'version two');
      await replaced.commit();
      assert.equal(await readText(storage, '/keep.txt'), 'version two');
    });

    test('uploads need an existing parent and cannot replace a directory', async () => {
      const storage = await fresh();
      await rejectsWith(storage.write('/no-such-dir/file.txt'), 'FERRY_ERR_NOT_FOUND');
      await storage.mkdir('/dir');
      await rejectsWith(storage.write('/dir'), 'FERRY_ERR_IS_A_DIRECTORY');
      await putFile(storage, '/dir/ok.txt', 'ok');
      assert.equal(await readText(storage, '/dir/ok.txt'), 'ok');
    });

    test('mkdir and rmdir: a non-empty directory is refused, an empty one removed', async () => {
      const storage = await fresh();
      await storage.mkdir('/d');
      assert.equal((await storage.stat('/d')).type, 'directory');
      assert.deepEqual(await storage.list('/d'), []);
      await rejectsWith(storage.mkdir('/d'), 'FERRY_ERR_EXISTS');
      await rejectsWith(storage.mkdir('/missing/sub'), 'FERRY_ERR_NOT_FOUND');
      await storage.mkdir('/d/sub');
      await putFile(storage, '/d/sub/file.txt', 'x');
      await rejectsWith(storage.rmdir('/d'), 'FERRY_ERR_NOT_EMPTY');
      await rejectsWith(storage.rmdir('/d/sub'), 'FERRY_ERR_NOT_EMPTY');
      await rejectsWith(storage.rmdir('/d/sub/file.txt'), 'FERRY_ERR_NOT_A_DIRECTORY');
      await storage.delete('/d/sub/file.txt');
      await storage.rmdir('/d/sub');
      await storage.rmdir('/d');
      await rejectsWith(storage.stat('/d'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.rmdir('/d'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.rmdir('/'), 'FERRY_ERR_PERMISSION');
    });

    test('delete removes a file; a missing file or a directory is refused', async () => {
      const storage = await fresh();
      await putFile(storage, '/gone.txt', 'bye');
      await storage.delete('/gone.txt');
      await rejectsWith(storage.stat('/gone.txt'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.delete('/gone.txt'), 'FERRY_ERR_NOT_FOUND');
      await storage.mkdir('/dir');
      await rejectsWith(storage.delete('/dir'), 'FERRY_ERR_IS_A_DIRECTORY');
      await rejectsWith(storage.delete('/'), 'FERRY_ERR_PERMISSION');
    });

    test('rename moves a file (replacing an existing one) and refuses a missing source', async () => {
      const storage = await fresh();
      await putFile(storage, '/from.txt', 'payload');
      await putFile(storage, '/old.txt', 'to be replaced');
      await storage.mkdir('/sub');
      await storage.rename('/from.txt', '/sub/to.txt');
      await rejectsWith(storage.stat('/from.txt'), 'FERRY_ERR_NOT_FOUND');
      assert.equal(await readText(storage, '/sub/to.txt'), 'payload');
      await storage.rename('/sub/to.txt', '/old.txt');
      assert.equal(await readText(storage, '/old.txt'), 'payload');
      assert.deepEqual(await names(storage, '/'), ['old.txt', 'sub/']);
      await rejectsWith(storage.rename('/nothing.txt', '/x.txt'), 'FERRY_ERR_NOT_FOUND');
      await rejectsWith(storage.rename('/old.txt', '/missing/x.txt'), 'FERRY_ERR_NOT_FOUND');
    });

    test('rename moves a directory with everything under it', async () => {
      const storage = await fresh();
      await storage.mkdir('/a');
      await storage.mkdir('/a/deep');
      await putFile(storage, '/a/x.txt', 'x');
      await putFile(storage, '/a/deep/y.txt', 'yy');
      await storage.rename('/a', '/b');
      await rejectsWith(storage.stat('/a'), 'FERRY_ERR_NOT_FOUND');
      assert.deepEqual(await names(storage, '/'), ['b/']);
      assert.deepEqual(await names(storage, '/b'), ['deep/', 'x.txt']);
      assert.equal(await readText(storage, '/b/deep/y.txt'), 'yy');
      assert.equal((await storage.stat('/b/deep')).type, 'directory');
    });

    test('awkward names (spaces, UTF-8, "%", "+") round-trip through every operation', async () => {
      const storage = await fresh();
      await storage.mkdir('/dir with space');
      for (const name of AWKWARD_NAMES) await putFile(storage, `/dir with space/${name}`, `content of ${name}`);
      assert.deepEqual(await names(storage, '/dir with space'), [...AWKWARD_NAMES].sort());
      for (const name of AWKWARD_NAMES) {
        const path = `/dir with space/${name}`;
        assert.equal((await storage.stat(path)).size, Buffer.byteLength(`content of ${name}`), name);
        assert.equal(await readText(storage, path), `content of ${name}`, name);
        assert.equal(await readText(storage, path, 11), name, name);
      }
      await storage.rename('/dir with space/100% sure.txt', '/dir with space/a+b 100%.txt');
      assert.equal(await readText(storage, '/dir with space/a+b 100%.txt'), 'content of 100% sure.txt');
      await storage.rename('/dir with space', '/ünï dir');
      assert.equal(await readText(storage, '/ünï dir/ünïcødé-日本語.txt'), 'content of ünïcødé-日本語.txt');
      for (const name of (await storage.list('/ünï dir')).map((entry) => entry.name)) await storage.delete(`/ünï dir/${name}`);
      await storage.rmdir('/ünï dir');
      assert.deepEqual(await storage.list('/'), []);
    });
  });
}
