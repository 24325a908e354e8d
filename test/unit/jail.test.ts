/**
 * Confinement before anything is opened: a file outside the root, or one that is not a
 * regular file, is refused before open(2) could have a side effect on it (a device armed
 * or rewound, a FIFO's other end released); descriptor paths ending " (deleted)" are
 * only trusted for files that really were removed; running without /proc is announced.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FtpError } from '../../src/errors.js';
import { canVerifyDescriptors, CAN_VERIFY_DESCRIPTORS, descriptorPath, Jail, warnIfConfinementRacy } from '../../src/storage/jail.js';
import { LocalStorage } from '../../src/storage/local.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { withBlockedOpener } from '../helpers/fifo.js';
import { loadNativeAddon } from '../../src/util/native-addon.js';

const ONE_TRIP_BUILT = loadNativeAddon('ferry_open') !== null;

const base = scratchDirForFile('ferry-jail-');
let count = 0;

function makeRoot(): { root: string; storage: LocalStorage } {
  const root = join(base(), `case-${++count}`, 'root');
  mkdirSync(root, { recursive: true });
  return { root, storage: new LocalStorage(root) };
}

async function rejectsNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof FtpError && error.code === 'FERRY_ERR_NOT_FOUND');
}

/**
 * openFile runs in the addon (native/open_inside.c, one thread-pool trip) where it is
 * built, else as JavaScript steps: both must refuse the same things.
 */
const IMPLEMENTATIONS = ONE_TRIP_BUILT ? (['one native trip', 'JavaScript steps'] as const) : (['JavaScript steps'] as const);

function useImplementation(implementation: (typeof IMPLEMENTATIONS)[number]): void {
  const previous = process.env.FERRY_NATIVE_OPEN;
  before(() => {
    process.env.FERRY_NATIVE_OPEN = implementation === 'JavaScript steps' ? '0' : '1';
  });
  after(() => {
    if (previous === undefined) delete process.env.FERRY_NATIVE_OPEN;
    else process.env.FERRY_NATIVE_OPEN = previous;
  });
}

for (const implementation of IMPLEMENTATIONS) {
  describe(`nothing is opened before it is checked (${implementation})`, { skip: !CAN_VERIFY_DESCRIPTORS && 'needs /proc/self/fd' }, () => {
    useImplementation(implementation);
    test('RETR through a link to an outside folder (pub/dev -> /dev style) never opens the file there', async () => {
      const { root, storage } = makeRoot();
      const devices = join(dirname(root), 'dev');
      mkdirSync(devices);
      execFileSync('mkfifo', [join(devices, 'watchdog')]);
      mkdirSync(join(root, 'pub'));
      symlinkSync(devices, join(root, 'pub', 'dev'));
      await withBlockedOpener(join(devices, 'watchdog'), 'write', () => rejectsNotFound(storage.read('/pub/dev/watchdog')));
      // The same through a link as last component.
      symlinkSync(join(devices, 'watchdog'), join(root, 'wd'));
      await withBlockedOpener(join(devices, 'watchdog'), 'write', () => rejectsNotFound(storage.read('/wd')));
    });

    test('a FIFO inside the root is refused by its type before RETR or APPE opens it', async () => {
      const { root, storage } = makeRoot();
      const fifo = join(root, 'pipe');
      execFileSync('mkfifo', [fifo]);
      await withBlockedOpener(fifo, 'write', () => rejectsNotFound(storage.read('/pipe')));
      await withBlockedOpener(fifo, 'read', () => rejectsNotFound(storage.write('/pipe', { append: true })));
      await withBlockedOpener(fifo, 'read', () => rejectsNotFound(storage.write('/pipe', { start: 1 })));
    });

    test('links inside the root still work, as last component and in the middle', async () => {
      const { root, storage } = makeRoot();
      mkdirSync(join(root, 'real'));
      writeFileSync(join(root, 'real', 'f.txt'), 'inside');
      symlinkSync('real', join(root, 'alias'));
      symlinkSync('real/f.txt', join(root, 'link.txt'));
      for (const path of ['/alias/f.txt', '/link.txt']) {
        const download = await storage.read(path);
        const chunks: Buffer[] = [];
        for await (const chunk of download.stream) chunks.push(chunk as Buffer);
        assert.equal(Buffer.concat(chunks).toString(), 'inside', path);
      }
      const upload = await storage.write('/link.txt', { append: true });
      await new Promise<void>((resolve) => upload.stream.end('!', () => resolve()));
      await upload.commit();
      assert.equal(readFileSync(join(root, 'real', 'f.txt'), 'utf8'), 'inside!');
    });
  });

  describe(`descriptors of removed files (${implementation})`, { skip: !CAN_VERIFY_DESCRIPTORS && 'needs /proc/self/fd' }, () => {
    useImplementation(implementation);
    test('an outside file named "<root> (deleted)" is not taken for the root', async () => {
      const { root, storage } = makeRoot();
      const lookalike = `${root} (deleted)`;
      writeFileSync(lookalike, 'SECRET');
      symlinkSync(lookalike, join(root, 'innocent.txt'));
      await rejectsNotFound(storage.read('/innocent.txt'));
      await rejectsNotFound(storage.stat('/innocent.txt'));
    });

    test('a file inside that really was removed after opening still verifies', async () => {
      const { root } = makeRoot();
      const jail = new Jail(root);
      const path = join(root, 'gone.txt');
      writeFileSync(path, 'x');
      const fd = openSync(path, 'r');
      try {
        unlinkSync(path);
        assert.equal(await jail.verifyDescriptor(fd), path);
      } finally {
        try {
          closeSync(fd);
        } catch {
          // already closed by a failed verification
        }
      }
    });

    test('a removed file inside, reached through its descriptor link, opens with its size', async () => {
      const { root } = makeRoot();
      const jail = new Jail(root);
      const path = join(root, 'gone.txt');
      writeFileSync(path, 'abc');
      const fd = openSync(path, 'r');
      try {
        unlinkSync(path);
        const opened = await jail.openFile(descriptorPath(fd), constants.O_RDONLY);
        assert.ok(opened);
        assert.equal(opened.size, 3);
        closeSync(opened.fd);
      } finally {
        closeSync(fd);
      }
    });

    test('a path with a NUL inside is refused, not cut short at it', async () => {
      const { root } = makeRoot();
      writeFileSync(join(root, 'a.txt'), 'visible');
      await assert.rejects(new Jail(root).openFile(`${join(root, 'a.txt')}\0.secret`, constants.O_RDONLY));
    });
  });
}

describe('running without /proc', () => {
  test('is detected: not Linux, or no /proc/self/fd', () => {
    assert.equal(canVerifyDescriptors('darwin'), false);
    assert.equal(canVerifyDescriptors('linux', join(base(), 'no-proc', 'self', 'fd')), false);
    assert.equal(canVerifyDescriptors('linux', base()), true);
  });

  test('is announced once with a warning; with /proc nothing is logged', () => {
    const warnings: { fields: object; message: string }[] = [];
    const logger = { warn: (fields: object, message: string) => warnings.push({ fields, message }) };
    assert.equal(warnIfConfinementRacy(logger, true), false);
    assert.equal(warnings.length, 0);
    assert.equal(warnIfConfinementRacy(logger, false), true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /root confinement is not race-free here: \/proc\/self\/fd unavailable/);
  });
});
