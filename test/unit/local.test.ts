import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { FtpError, type ErrorCode } from '../../src/errors.js';
import { resolveVirtualPath } from '../../src/protocol/paths.js';
import { LocalStorage, UPLOAD_TEMP_PREFIX } from '../../src/storage/local.js';
import { sleep, waitFor } from '../helpers/timing.js';
import { descriptorsOn, reopenAs } from '../helpers/open-descriptors.js';

let base: string;
let fixtureCount = 0;

before(() => {
  base = mkdtempSync(join(tmpdir(), 'ferry-local-'));
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

const SECRET = 'TOP SECRET, OUTSIDE THE JAIL';
const HELLO = 'hello world';

interface Jail {
  root: string;
  outside: string;
  storage: LocalStorage;
}

/**
 * A fresh jail:
 *   root/hello.txt, root/sub/nested.txt, links inside and outside;
 *   outside/secret.txt, outside/outdir/inner.txt, and a sibling "root-evil" folder
 *   whose name starts with the root's name.
 */
function makeJail(): Jail {
  const dir = join(base, `jail-${++fixtureCount}`);
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(outside, 'outdir'), { recursive: true });
  mkdirSync(`${root}-evil`);
  writeFileSync(join(root, 'hello.txt'), HELLO);
  writeFileSync(join(root, 'sub', 'nested.txt'), 'nested');
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(outside, 'outdir', 'inner.txt'), SECRET);
  writeFileSync(join(`${root}-evil`, 'evil.txt'), SECRET);
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out'));
  symlinkSync('../outside/secret.txt', join(root, 'link-out-rel'));
  symlinkSync(join(outside, 'outdir'), join(root, 'link-dir-out'));
  symlinkSync(join(outside, 'missing.txt'), join(root, 'dangling-out'));
  symlinkSync(join(`${root}-evil`, 'evil.txt'), join(root, 'link-sibling'));
  symlinkSync('hello.txt', join(root, 'link-in'));
  symlinkSync('sub', join(root, 'link-dir-in'));
  return { root, outside, storage: new LocalStorage(root) };
}

async function readAll(download: { stream: Readable }): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of download.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function write(stream: Writable, data: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (error) => (error ? reject(error) : resolve())));
}

function end(stream: Writable, data: string): Promise<void> {
  return new Promise((resolve) => stream.end(data, () => resolve()));
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, reply?: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FtpError, `expected FtpError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (reply !== undefined) assert.equal(error.reply, reply);
    return true;
  });
}

function outsideUnchanged(jail: Jail): void {
  assert.equal(readFileSync(join(jail.outside, 'secret.txt'), 'utf8'), SECRET);
  assert.equal(readFileSync(join(jail.outside, 'outdir', 'inner.txt'), 'utf8'), SECRET);
  assert.deepEqual(readdirSync(jail.outside).sort(), ['outdir', 'secret.txt']);
  assert.deepEqual(readdirSync(join(jail.outside, 'outdir')), ['inner.txt']);
  assert.deepEqual(readdirSync(`${jail.root}-evil`), ['evil.txt']);
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith(UPLOAD_TEMP_PREFIX));
}

describe('LocalStorage: ordinary operations', () => {
  test('stat of a file and of the root', async () => {
    const { storage } = makeJail();
    const file = await storage.stat('/hello.txt');
    assert.equal(file.name, 'hello.txt');
    assert.equal(file.type, 'file');
    assert.equal(file.size, HELLO.length);
    assert.ok(file.mtime instanceof Date);
    const root = await storage.stat('/');
    assert.equal(root.name, '/');
    assert.equal(root.type, 'directory');
  });

  test('list shows files and directories, plus links that stay inside', async () => {
    const { storage } = makeJail();
    const entries = await storage.list('/');
    const byName = new Map(entries.map((entry) => [entry.name, entry.type]));
    assert.deepEqual(
      [...byName.entries()].sort(),
      [
        ['hello.txt', 'file'],
        ['link-dir-in', 'directory'],
        ['link-in', 'file'],
        ['sub', 'directory'],
      ],
    );
    const linkIn = entries.find((entry) => entry.name === 'link-in')!;
    assert.equal(linkIn.size, HELLO.length);
  });

  test('read a whole file and from an offset', async () => {
    const { storage } = makeJail();
    assert.equal(await readAll(await storage.read('/hello.txt')), HELLO);
    assert.equal(await readAll(await storage.read('/hello.txt', { start: 6 })), 'world');
    assert.equal(await readAll(await storage.read('/sub/nested.txt')), 'nested');
  });

  test('mkdir, rmdir, delete, rename', async () => {
    const { root, storage } = makeJail();
    await storage.mkdir('/new');
    assert.ok(lstatSync(join(root, 'new')).isDirectory());
    await storage.rename('/hello.txt', '/new/moved.txt');
    assert.equal(readFileSync(join(root, 'new', 'moved.txt'), 'utf8'), HELLO);
    assert.equal(existsSync(join(root, 'hello.txt')), false);
    await storage.delete('/new/moved.txt');
    await storage.rmdir('/new');
    assert.equal(existsSync(join(root, 'new')), false);
  });

  test('a storage whose root path is itself a symlink works and stays jailed', async () => {
    const jail = makeJail();
    const rootLink = `${jail.root}-link`;
    symlinkSync(jail.root, rootLink);
    const storage = new LocalStorage(rootLink);
    assert.equal(await readAll(await storage.read('/hello.txt')), HELLO);
    await rejectsWith(storage.read('/link-out'), 'FERRY_ERR_NOT_FOUND');
  });
});

describe('LocalStorage: error codes', () => {
  test('a missing file is FERRY_ERR_NOT_FOUND with reply 550', async () => {
    const { storage } = makeJail();
    await rejectsWith(storage.stat('/missing.txt'), 'FERRY_ERR_NOT_FOUND', 550);
    await rejectsWith(storage.read('/missing.txt'), 'FERRY_ERR_NOT_FOUND', 550);
    await rejectsWith(storage.list('/missing'), 'FERRY_ERR_NOT_FOUND', 550);
    await rejectsWith(storage.delete('/missing.txt'), 'FERRY_ERR_NOT_FOUND', 550);
    await rejectsWith(storage.rename('/missing.txt', '/x'), 'FERRY_ERR_NOT_FOUND', 550);
    await rejectsWith(storage.write('/missing-dir/x.txt'), 'FERRY_ERR_NOT_FOUND', 550);
  });

  test('directories and files used the wrong way round', async () => {
    const { storage } = makeJail();
    await rejectsWith(storage.read('/sub'), 'FERRY_ERR_IS_A_DIRECTORY', 550);
    await rejectsWith(storage.write('/sub'), 'FERRY_ERR_IS_A_DIRECTORY', 550);
    await rejectsWith(storage.delete('/sub'), 'FERRY_ERR_IS_A_DIRECTORY', 550);
    await rejectsWith(storage.rmdir('/hello.txt'), 'FERRY_ERR_NOT_A_DIRECTORY', 550);
    await rejectsWith(storage.list('/hello.txt'), 'FERRY_ERR_NOT_A_DIRECTORY', 550);
  });

  test('mkdir of an existing name, rmdir of a non-empty directory', async () => {
    const { storage } = makeJail();
    await rejectsWith(storage.mkdir('/sub'), 'FERRY_ERR_EXISTS', 550);
    await rejectsWith(storage.rmdir('/sub'), 'FERRY_ERR_NOT_EMPTY', 550);
  });
});

describe('LocalStorage: the jail', () => {
  test('links pointing outside (file, relative, directory, dangling, sibling prefix) are not listed', async () => {
    const jail = makeJail();
    const names = (await jail.storage.list('/')).map((entry) => entry.name);
    for (const name of ['link-out', 'link-out-rel', 'link-dir-out', 'dangling-out', 'link-sibling']) {
      assert.ok(!names.includes(name), `${name} is listed`);
    }
  });

  test('links pointing outside cannot be stat-ed, read or listed', async () => {
    const { storage } = makeJail();
    for (const path of ['/link-out', '/link-out-rel', '/link-sibling', '/link-dir-out/inner.txt']) {
      await rejectsWith(storage.stat(path), 'FERRY_ERR_NOT_FOUND', 550);
      await rejectsWith(storage.read(path), 'FERRY_ERR_NOT_FOUND', 550);
    }
    await rejectsWith(storage.stat('/link-dir-out'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.list('/link-dir-out'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.read('/dangling-out'), 'FERRY_ERR_NOT_FOUND');
  });

  test('APPE and REST+STOR through a link to an outside file are refused', async () => {
    const jail = makeJail();
    for (const path of ['/link-out', '/link-out-rel', '/link-sibling']) {
      await assert.rejects(jail.storage.write(path, { append: true }));
      await assert.rejects(jail.storage.write(path, { start: 3 }));
    }
    outsideUnchanged(jail);
  });

  test('APPE through a dangling link to outside creates nothing outside', async () => {
    const jail = makeJail();
    await assert.rejects(jail.storage.write('/dangling-out', { append: true }));
    await assert.rejects(jail.storage.write('/dangling-out', { start: 2 }));
    assert.equal(existsSync(join(jail.outside, 'missing.txt')), false);
    outsideUnchanged(jail);
  });

  test('STOR onto a link to an outside file replaces the link, never the target', async () => {
    const jail = makeJail();
    const upload = await jail.storage.write('/link-out');
    await end(upload.stream, 'replacement');
    await upload.commit();
    outsideUnchanged(jail);
    assert.ok(lstatSync(join(jail.root, 'link-out')).isFile());
    assert.equal(readFileSync(join(jail.root, 'link-out'), 'utf8'), 'replacement');
  });

  test('nothing can be created, moved or removed inside a linked outside directory', async () => {
    const jail = makeJail();
    const { storage } = jail;
    await rejectsWith(storage.write('/link-dir-out/new.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.write('/link-dir-out/inner.txt', { append: true }), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.write('/link-dir-out/inner.txt', { start: 1 }), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.mkdir('/link-dir-out/newdir'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.delete('/link-dir-out/inner.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.rmdir('/link-dir-out/inner.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.rename('/link-dir-out/inner.txt', '/stolen.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.rename('/hello.txt', '/link-dir-out/planted.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.mkdir('/link-out/x'), 'FERRY_ERR_NOT_FOUND');
    outsideUnchanged(jail);
    assert.equal(readFileSync(join(jail.root, 'hello.txt'), 'utf8'), HELLO);
  });

  test('an outward link cannot be renamed; deleting it touches only the link', async () => {
    const jail = makeJail();
    await rejectsWith(jail.storage.rename('/link-out', '/renamed-link'), 'FERRY_ERR_PERMISSION', 550);
    assert.ok(lstatSync(join(jail.root, 'link-out')).isSymbolicLink());
    await jail.storage.delete('/link-out');
    await jail.storage.delete('/link-dir-out');
    assert.equal(existsSync(join(jail.root, 'link-out')), false);
    assert.equal(existsSync(join(jail.root, 'link-dir-out')), false);
    outsideUnchanged(jail);
  });

  test('un-normalised paths that climb out lexically are refused too', async () => {
    const jail = makeJail();
    const { storage } = jail;
    await rejectsWith(storage.stat('/../outside/secret.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.read('/../outside/secret.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.list('/../outside'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.write('/../outside/new.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.mkdir('/../outside/newdir'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.delete('/../outside/secret.txt'), 'FERRY_ERR_NOT_FOUND');
    await rejectsWith(storage.rename('/../outside/secret.txt', '/got.txt'), 'FERRY_ERR_NOT_FOUND');
    outsideUnchanged(jail);
  });

  test('links that stay inside work for stat, read, list and APPE', async () => {
    const { root, storage } = makeJail();
    assert.equal((await storage.stat('/link-in')).size, HELLO.length);
    assert.equal(await readAll(await storage.read('/link-in')), HELLO);
    assert.deepEqual((await storage.list('/link-dir-in')).map((entry) => entry.name), ['nested.txt']);
    assert.equal(await readAll(await storage.read('/link-dir-in/nested.txt')), 'nested');
    const upload = await storage.write('/link-in', { append: true });
    await end(upload.stream, '!');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), `${HELLO}!`);
    assert.ok(lstatSync(join(root, 'link-in')).isSymbolicLink());
  });

  test('the root itself cannot be deleted, removed or renamed', async () => {
    const { root, storage } = makeJail();
    await rejectsWith(storage.delete('/'), 'FERRY_ERR_PERMISSION', 550);
    await rejectsWith(storage.rmdir('/'), 'FERRY_ERR_PERMISSION', 550);
    await rejectsWith(storage.rename('/', '/elsewhere'), 'FERRY_ERR_PERMISSION', 550);
    await rejectsWith(storage.rename('/hello.txt', '/'), 'FERRY_ERR_PERMISSION', 550);
    await rejectsWith(storage.mkdir('/'), 'FERRY_ERR_PERMISSION', 550);
    await rejectsWith(storage.write('/'), 'FERRY_ERR_PERMISSION', 550);
    assert.ok(lstatSync(root).isDirectory());
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), HELLO);
  });
});

describe('LocalStorage: uploads', () => {
  test('commit replaces the content and leaves no temporary file', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt');
    await write(upload.stream, 'new ');
    await end(upload.stream, 'content');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), 'new content');
    assert.deepEqual(tempFiles(root), []);
  });

  test('a new file appears only on commit', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/sub/fresh.txt');
    await write(upload.stream, 'fresh');
    assert.equal(existsSync(join(root, 'sub', 'fresh.txt')), false);
    await end(upload.stream, '');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'sub', 'fresh.txt'), 'utf8'), 'fresh');
  });

  test('abort after some bytes keeps the previous content and removes the temporary file', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt');
    await write(upload.stream, 'partial upload that must not land');
    assert.equal(tempFiles(root).length, 1);
    await upload.abort();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), HELLO);
    assert.deepEqual(tempFiles(root), []);
  });

  test('temporary files are hidden from list()', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt');
    await write(upload.stream, 'in progress');
    try {
      assert.equal(tempFiles(root).length, 1);
      const names = (await storage.list('/')).map((entry) => entry.name);
      assert.ok(!names.some((name) => name.startsWith(UPLOAD_TEMP_PREFIX)), names.join(','));
      assert.ok(names.includes('hello.txt'));
    } finally {
      await upload.abort();
    }
  });

  test('REST-style write with start=N keeps the first N bytes', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt', { start: 5 });
    await end(upload.stream, 'XYZ');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), 'helloXYZ');
  });

  test('REST-style write in the middle keeps the head and replaces the tail', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt', { start: 6 });
    await end(upload.stream, 'there, longer than before');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), 'hello there, longer than before');
  });

  test('APPE adds to the end', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/hello.txt', { append: true });
    await end(upload.stream, '!!');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), `${HELLO}!!`);
  });

  test('APPE to a missing file creates it', async () => {
    const { root, storage } = makeJail();
    const upload = await storage.write('/appended.txt', { append: true });
    await end(upload.stream, 'first');
    await upload.commit();
    assert.equal(readFileSync(join(root, 'appended.txt'), 'utf8'), 'first');
  });
});

describe('LocalStorage: property', () => {
  test('no virtual path built from .., ., a, b, link-out ever yields the outside content', async () => {
    const dir = join(base, 'property');
    const root = join(dir, 'root');
    const outside = join(dir, 'outside');
    const sentinel = 'SENTINEL: THIS FILE IS OUTSIDE THE ROOT';
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    mkdirSync(outside);
    for (const name of ['sentinel', 'a', 'b', 'link-out']) writeFileSync(join(outside, name), sentinel);
    writeFileSync(join(root, 'a', 'a'), 'inside a/a');
    writeFileSync(join(root, 'a', 'b'), 'inside a/b');
    // Escapes of every shape: to a file, to the outside folder, to the folder above the root.
    symlinkSync(join(outside, 'sentinel'), join(root, 'link-out'));
    symlinkSync('../../outside', join(root, 'a', 'link-out'));
    symlinkSync('../..', join(root, 'b', 'link-out'));
    const storage = new LocalStorage(root);
    const insideSizes = new Set(['inside a/a'.length, 4096]);

    const segment = fc.constantFrom('..', '.', 'a', 'b', 'link-out', '');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 7 }), async (segments) => {
        const path = resolveVirtualPath('/', segments.join('/'));
        assert.ok(path !== null);
        const stat = await storage.stat(path).catch(() => null);
        if (stat !== null) assert.ok(insideSizes.has(stat.size), `${path}: size ${stat.size}`);
        const download = await storage.read(path).catch(() => null);
        if (download !== null) assert.notEqual(await readAll(download), sentinel, path);
        const listed = await storage.list(path).catch(() => null);
        if (listed !== null) for (const entry of listed) assert.ok(insideSizes.has(entry.size), `${path}/${entry.name}`);
      }),
      { numRuns: 300 },
    );
    // The paths that must resolve inside do work.
    assert.equal(await readAll(await storage.read('/a/a')), 'inside a/a');
    assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), sentinel);
  });
});

describe('LocalStorage: read offsets', () => {
  test('read reports the whole size and refuses a start beyond the end', async () => {
    const { storage } = makeJail();
    const download = await storage.read('/hello.txt', { start: 2 });
    assert.equal(download.size, Buffer.byteLength(HELLO));
    download.stream.destroy();
    const atEnd = await storage.read('/hello.txt', { start: Buffer.byteLength(HELLO) });
    assert.equal(await readAll(atEnd), '');
    await rejectsWith(storage.read('/hello.txt', { start: Buffer.byteLength(HELLO) + 1 }), 'FERRY_ERR_BAD_RESTART', 554);
  });

  test('close() releases the file whether or not its stream was made, and only once', { skip: !existsSync('/proc/self/fd') && 'needs /proc/self/fd' }, async () => {
    const { root, storage } = makeJail();
    const path = join(root, 'hello.txt');
    const openOnHello = () => descriptorsOn(path).length;
    const unread = await storage.read('/hello.txt');
    const [number] = descriptorsOn(path);
    assert.equal(openOnHello(), 1);
    unread.close();
    // The close runs on the thread pool: it lands a moment later.
    assert.ok(await waitFor(() => openOnHello() === 0));
    // Its number now names another open file, which a second close must leave alone.
    const other = reopenAs(path, Number(number));
    try {
      unread.close();
      await sleep(100);
      assert.ok(fstatSync(other).isFile(), 'the second close() closed nothing');
    } finally {
      closeSync(other);
    }
    const read = await storage.read('/hello.txt');
    assert.equal(await readAll(read), HELLO);
    read.close();
    assert.ok(await waitFor(() => openOnHello() === 0));
  });
});

