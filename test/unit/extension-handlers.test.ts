/**
 * The extension commands without sockets (test/helpers/command-harness.ts): HASH with
 * OPTS HASH and RANG, the X-digests, MFMT/MFCT, SITE CHMOD/UTIME/SYMLINK, and how each
 * is offered (FEAT, HELP, SITE HELP) or refused (502) by what the storage can do.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { FtpError } from '../../src/errors.js';
import { streamDownload, type Download, type FileStat, type StorageBackend } from '../../src/storage/backend.js';
import { LocalStorage } from '../../src/storage/local.js';
import { commandHarness, loggedIn, replyTo, type Harness, type HarnessOptions } from '../helpers/command-harness.js';
import { overriding } from '../helpers/storage-override.js';

const base = mkdtempSync(join(tmpdir(), 'ferry-extensions-'));
after(() => rmSync(base, { recursive: true, force: true }));

let folders = 0;
/** A fresh root (with a sibling "outside" folder) per test. */
function freshRoot(): { home: string; outside: string } {
  const dir = join(base, String(folders++));
  const home = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(home, { recursive: true });
  mkdirSync(outside);
  return { home, outside };
}

const CONTENT = Buffer.from('The quick brown fox jumps over the lazy dog\n');
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');
const crc32 = (data: Buffer) => zlib.crc32(data).toString(16).padStart(8, '0');

async function session(options: Partial<HarnessOptions> = {}, user = 'alice'): Promise<Harness & { home: string; outside: string }> {
  const { home, outside } = freshRoot();
  writeFileSync(join(home, 'fox.txt'), CONTENT);
  mkdirSync(join(home, 'dir'));
  const h = commandHarness({ home, ...options });
  await loggedIn(h, user);
  return Object.assign(h, { home, outside });
}

function featLines(h: Harness): Promise<readonly string[]> {
  return replyTo(h, 'FEAT').then((feat) => feat.text as readonly string[]);
}

async function helpVerbs(h: Harness): Promise<string[]> {
  const help = await replyTo(h, 'HELP');
  return (help.text as readonly string[]).slice(1, -1).join(' ').split(/\s+/);
}

describe('HASH, OPTS HASH, RANG', () => {
  test('HASH answers 213 with algorithm, inclusive range, lowercase digest and the path; SHA-256 by default', async () => {
    const h = await session();
    const answer = await replyTo(h, 'HASH fox.txt');
    assert.deepEqual(answer, { code: 213, text: `SHA-256 0-${CONTENT.length - 1} ${hex('sha256', CONTENT)} fox.txt` });
    assert.ok((await featLines(h)).includes('HASH SHA-256*;SHA-1;MD5;CRC32'));
  });

  test('OPTS HASH reports and selects; an unknown algorithm is 501 and changes nothing; FEAT marks the selection', async () => {
    const h = await session();
    assert.deepEqual(await replyTo(h, 'OPTS HASH'), { code: 200, text: 'SHA-256' });
    assert.deepEqual(await replyTo(h, 'OPTS HASH md5'), { code: 200, text: 'MD5' });
    assert.equal((await replyTo(h, 'OPTS HASH CRC-37')).code, 501);
    assert.deepEqual(await replyTo(h, 'OPTS HASH'), { code: 200, text: 'MD5' });
    assert.ok((await featLines(h)).includes('HASH SHA-256;SHA-1;MD5*;CRC32'));
    assert.equal((await replyTo(h, 'HASH fox.txt')).text, `MD5 0-${CONTENT.length - 1} ${hex('md5', CONTENT)} fox.txt`);
    await replyTo(h, 'OPTS HASH SHA-1');
    assert.match(String((await replyTo(h, 'HASH /fox.txt')).text), new RegExp(`^SHA-1 0-43 ${hex('sha1', CONTENT)} /fox.txt$`));
    await replyTo(h, 'OPTS HASH CRC32');
    assert.equal((await replyTo(h, 'HASH fox.txt')).text, `CRC32 0-43 ${crc32(CONTENT)} fox.txt`);
    assert.ok('reinitialize' in (await h.run('REIN')));
    h.state.reinitialized(); // what the session does with that outcome
    assert.deepEqual(await replyTo(h, 'OPTS HASH'), { code: 200, text: 'SHA-256' }, 'REIN restores the default');
  });

  test('RANG selects bytes (both ends included) for the next HASH only; RANG 1 0 resets; start > end is 501 and resets', async () => {
    const h = await session();
    assert.equal((await replyTo(h, 'RANG 4 8')).code, 350);
    assert.equal((await replyTo(h, 'HASH fox.txt')).text, `SHA-256 4-8 ${hex('sha256', CONTENT.subarray(4, 9))} fox.txt`);
    assert.equal((await replyTo(h, 'HASH fox.txt')).text, `SHA-256 0-43 ${hex('sha256', CONTENT)} fox.txt`, 'used up');
    await replyTo(h, 'RANG 40 1000');
    assert.equal((await replyTo(h, 'HASH fox.txt')).text, `SHA-256 40-43 ${hex('sha256', CONTENT.subarray(40))} fox.txt`, 'stops at the end');
    await replyTo(h, 'RANG 0 3');
    assert.equal((await replyTo(h, 'RANG 1 0')).code, 350);
    assert.equal(h.state.range, null);
    await replyTo(h, 'RANG 0 3');
    assert.equal((await replyTo(h, 'RANG 9 2')).code, 501);
    assert.equal(h.state.range, null);
    await replyTo(h, 'RANG 44 50');
    await assert.rejects(h.run('HASH fox.txt'), (error: FtpError) => error.reply === 554, 'a range past the end');
  });

  test('a transfer after RANG is refused (504) instead of moving the whole file', async () => {
    const h = await session();
    await replyTo(h, 'RANG 0 3');
    await assert.rejects(h.run('RETR fox.txt'), (error: FtpError) => error.reply === 504);
    await assert.rejects(h.run('STOR up.txt'), (error: FtpError) => error.reply === 504);
    await replyTo(h, 'RANG 1 0');
    const outcome = await h.run('RETR fox.txt');
    assert.ok('transfer' in outcome);
    outcome.transfer.release?.();
  });

  test('a directory is 553, a missing file 550, an empty file "0-0"; HASH needs a login', async () => {
    const h = await session();
    assert.equal((await replyTo(h, 'HASH dir')).code, 553);
    assert.equal((await h.run('HASH nothing.txt').catch((error: FtpError) => error)) instanceof FtpError, true);
    writeFileSync(join(h.home, 'empty'), '');
    assert.equal((await replyTo(h, 'HASH empty')).text, `SHA-256 0-0 ${hex('sha256', Buffer.alloc(0))} empty`);
    const anonymous = commandHarness({ home: h.home });
    assert.equal((await replyTo(anonymous, 'HASH fox.txt')).code, 530);
  });

  test('closing the session stops a long HASH: the stream is destroyed and the handler fails', async () => {
    const { home } = freshRoot();
    let destroyed = false;
    // A "file" of 1 TB that trickles out: hashing it would take forever.
    const endless = overriding(new LocalStorage(home), {
      stat: async (): Promise<FileStat> => ({ name: 'huge', type: 'file', size: 1e12, mtime: new Date(), mode: 0o644 }),
      read: async (): Promise<Download> => {
        const stream = new Readable({ read() {
          setTimeout(() => this.push(Buffer.alloc(1024)), 5);
        } });
        stream.on('close', () => (destroyed = true));
        return streamDownload(stream, 1e12, 0);
      },
    });
    const h = commandHarness({ home, openStorage: async () => endless });
    await loggedIn(h);
    const hashing = h.run('HASH huge');
    setTimeout(() => h.lifetime.abort(), 50);
    await assert.rejects(hashing, (error: FtpError) => error.code === 'FERRY_ERR_DATA_ABORTED');
    assert.equal(destroyed, true);
  });
});

describe('XCRC, XMD5, XSHA1, XSHA256', () => {
  test('250 with the uppercase digest; an optional [start, end) range; bad ranges are 501', async () => {
    const h = await session();
    assert.deepEqual(await replyTo(h, 'XMD5 fox.txt'), { code: 250, text: hex('md5', CONTENT).toUpperCase() });
    assert.deepEqual(await replyTo(h, 'XSHA1 fox.txt'), { code: 250, text: hex('sha1', CONTENT).toUpperCase() });
    assert.deepEqual(await replyTo(h, 'XSHA fox.txt'), { code: 250, text: hex('sha1', CONTENT).toUpperCase() });
    assert.deepEqual(await replyTo(h, 'XSHA256 fox.txt'), { code: 250, text: hex('sha256', CONTENT).toUpperCase() });
    assert.deepEqual(await replyTo(h, 'XCRC fox.txt'), { code: 250, text: crc32(CONTENT).toUpperCase() });
    assert.deepEqual(await replyTo(h, 'XCRC fox.txt 4 9'), { code: 250, text: crc32(CONTENT.subarray(4, 9)).toUpperCase() });
    assert.equal((await replyTo(h, 'XCRC fox.txt 0 45')).code, 501, 'end past the file');
    assert.equal((await replyTo(h, 'XCRC fox.txt 5 2')).code, 501);
    assert.equal((await replyTo(h, 'XMD5 dir')).code, 550);
    const feat = await featLines(h);
    for (const verb of ['XCRC', 'XMD5', 'XSHA', 'XSHA1', 'XSHA256']) assert.ok(feat.includes(verb), verb);
  });
});

/** Local storage of `home` that declares it cannot set times, modes or links. */
function limitedStorage(home: string): StorageBackend {
  const local = new LocalStorage(home);
  return overriding(local, { capabilities: { ...local.capabilities, setModifiedTime: false, setMode: false, symlink: false } });
}

describe('MFMT and MFCT', () => {
  test('MFMT sets the modification time (UTC) and answers 213 Modify=...; bad times are 501', async () => {
    const h = await session();
    assert.deepEqual(await replyTo(h, 'MFMT 20200203040506 fox.txt'), { code: 213, text: 'Modify=20200203040506; fox.txt' });
    assert.equal(statSync(join(h.home, 'fox.txt')).mtime.toISOString(), '2020-02-03T04:05:06.000Z');
    await replyTo(h, 'MFMT 20200203040506.250 dir');
    assert.equal(statSync(join(h.home, 'dir')).mtimeMs % 1000, 250, 'directories too, milliseconds kept');
    assert.equal((await replyTo(h, 'MFMT 2020 fox.txt')).code, 501);
    assert.equal((await replyTo(h, 'MFMT 20201301000000 fox.txt')).code, 501);
    assert.ok((await featLines(h)).includes('MFMT'));
  });

  test('MFCT is never offered: 502, absent from FEAT and HELP', async () => {
    const h = await session();
    assert.equal((await replyTo(h, 'MFCT 20200203040506 fox.txt')).code, 502);
    assert.ok(!(await featLines(h)).includes('MFCT'));
    assert.ok(!(await helpVerbs(h)).includes('MFCT'));
  });

  test('a read-only user is refused MFMT, SITE CHMOD and SITE UTIME (550), and nothing changes', async () => {
    const h = await session({}, 'bob');
    const before = statSync(join(h.home, 'fox.txt'));
    assert.equal((await replyTo(h, 'MFMT 20200203040506 fox.txt')).code, 550);
    await assert.rejects(h.run('SITE CHMOD 777 fox.txt'), (error: FtpError) => error.reply === 550);
    await assert.rejects(h.run('SITE UTIME 20200203040506 fox.txt'), (error: FtpError) => error.reply === 550);
    const after = statSync(join(h.home, 'fox.txt'));
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.mode, before.mode);
  });

  test('a storage that cannot set times: MFMT and SITE UTIME are 502 and listed nowhere', async () => {
    const { home } = freshRoot();
    writeFileSync(join(home, 'fox.txt'), CONTENT);
    const h = commandHarness({ home, openStorage: async () => limitedStorage(home), config: { extensions: { site_symlink: true } } });
    await loggedIn(h);
    assert.equal((await replyTo(h, 'MFMT 20200203040506 fox.txt')).code, 502);
    assert.equal((await replyTo(h, 'SITE UTIME 20200203040506 fox.txt')).code, 502);
    assert.equal((await replyTo(h, 'SITE CHMOD 600 fox.txt')).code, 502);
    assert.equal((await replyTo(h, 'SITE SYMLINK fox.txt link')).code, 502);
    const feat = await featLines(h);
    assert.ok(!feat.includes('MFMT') && !feat.some((line) => line.startsWith('SITE ')), feat.join(' | '));
    assert.ok(!(await helpVerbs(h)).includes('MFMT'));
    assert.deepEqual((await replyTo(h, 'SITE HELP')).text, ['SITE commands recognized:', 'HELP', 'Help OK.']);
  });

  test('before login FEAT announces what the site says its storage can (lftp reads FEAT only then)', async () => {
    const { home } = freshRoot();
    const local = await featLines(commandHarness({ home }));
    assert.ok(local.includes('MFMT') && local.includes('SITE UTIME') && local.includes('SITE CHMOD'), local.join(' | '));
    // A custom storage that declares nothing: nothing storage-dependent until login.
    const custom = commandHarness({ home, openStorage: async () => new LocalStorage(home) });
    const before = await featLines(custom);
    assert.ok(!before.includes('MFMT') && !before.some((line) => line.startsWith('SITE ')), before.join(' | '));
    assert.ok(before.some((line) => line.startsWith('HASH ')));
    await loggedIn(custom);
    assert.ok((await featLines(custom)).includes('MFMT'), 'after login its own capabilities count');
  });
});

describe('SITE CHMOD, UTIME, SYMLINK', () => {
  test('CHMOD sets permission bits only (4755 ends up 0755); malformed is 501', async () => {
    const h = await session();
    assert.deepEqual(await replyTo(h, 'SITE CHMOD 4755 fox.txt'), { code: 200, text: 'SITE CHMOD command successful.' });
    assert.equal(statSync(join(h.home, 'fox.txt')).mode & 0o7777, 0o755);
    await replyTo(h, 'SITE chmod 600 fox.txt');
    assert.equal(statSync(join(h.home, 'fox.txt')).mode & 0o7777, 0o600);
    assert.equal((await replyTo(h, 'SITE CHMOD 9 fox.txt')).code, 501);
    assert.equal((await replyTo(h, 'SITE CHMOD 644')).code, 501);
  });

  test('a link out of the root is never followed by CHMOD, UTIME or MFMT', async () => {
    const h = await session();
    const secret = join(h.outside, 'secret.txt');
    writeFileSync(secret, 'secret');
    symlinkSync(secret, join(h.home, 'escape'));
    const before = statSync(secret);
    await assert.rejects(h.run('SITE CHMOD 777 escape'), (error: FtpError) => error.reply === 550);
    await assert.rejects(h.run('SITE UTIME 20200203040506 escape'), (error: FtpError) => error.reply === 550);
    await assert.rejects(h.run('MFMT 20200203040506 escape'), (error: FtpError) => error.reply === 550);
    const after = statSync(secret);
    assert.equal(after.mode, before.mode);
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  test('UTIME: both ProFTPD forms; malformed is 501', async () => {
    const h = await session();
    assert.deepEqual(await replyTo(h, 'SITE UTIME 20200203040506 fox.txt'), { code: 200, text: 'SITE UTIME command successful.' });
    let stats = statSync(join(h.home, 'fox.txt'));
    assert.equal(stats.mtime.toISOString(), '2020-02-03T04:05:06.000Z');
    assert.equal(stats.atime.toISOString(), '2020-02-03T04:05:06.000Z');
    writeFileSync(join(h.home, 'a b.txt'), 'x');
    assert.equal((await replyTo(h, 'SITE UTIME a b.txt 20190101000000 20210304050607 20190101000000 UTC')).code, 200);
    stats = statSync(join(h.home, 'a b.txt'));
    assert.equal(stats.mtime.toISOString(), '2021-03-04T05:06:07.000Z');
    assert.equal(stats.atime.toISOString(), '2019-01-01T00:00:00.000Z');
    assert.equal((await replyTo(h, 'SITE UTIME 2020 fox.txt')).code, 501);
    assert.equal((await replyTo(h, 'SITE UTIME fox.txt')).code, 501);
  });

  test('SYMLINK is off by default: 502 and not in SITE HELP; unknown subcommands are 504', async () => {
    const h = await session();
    assert.equal((await replyTo(h, 'SITE SYMLINK fox.txt link')).code, 502);
    assert.equal(lstatSync(join(h.home, 'link'), { throwIfNoEntry: false }), undefined);
    assert.deepEqual((await replyTo(h, 'SITE HELP')).text, ['SITE commands recognized:', 'HELP CHMOD UTIME', 'Help OK.']);
    assert.equal((await replyTo(h, 'SITE NOSUCH')).code, 504);
    assert.match(String((await replyTo(h, 'SITE HELP UTIME')).text), /^Syntax: SITE UTIME/);
  });

  test('SYMLINK when on: a link inside the root works; absolute, escaping and dangling targets are refused', async () => {
    const h = await session({ config: { extensions: { site_symlink: true } } });
    assert.deepEqual((await replyTo(h, 'SITE HELP')).text, ['SITE commands recognized:', 'HELP CHMOD UTIME SYMLINK', 'Help OK.']);
    assert.ok((await featLines(h)).includes('SITE SYMLINK'));
    assert.equal((await replyTo(h, 'SITE SYMLINK ../fox.txt dir/fox-link')).code, 200);
    assert.equal(readlinkSync(join(h.home, 'dir', 'fox-link')), '../fox.txt');
    assert.equal((await replyTo(h, 'HASH dir/fox-link')).text, `SHA-256 0-43 ${hex('sha256', CONTENT)} dir/fox-link`, 'the link is usable');
    for (const target of ['/fox.txt', '../../outside', '../../../etc/passwd', h.outside]) {
      await assert.rejects(h.run(`SITE SYMLINK ${target} dir/bad`), (error: FtpError) => error.reply === 550, target);
    }
    await assert.rejects(h.run('SITE SYMLINK nothing-here dir/dangling'), (error: FtpError) => error.reply === 550);
    assert.equal(lstatSync(join(h.home, 'dir', 'bad'), { throwIfNoEntry: false }), undefined);
    assert.equal(lstatSync(join(h.home, 'dir', 'dangling'), { throwIfNoEntry: false }), undefined);
    const bob = commandHarness({ home: h.home, config: { extensions: { site_symlink: true } } });
    await loggedIn(bob, 'bob');
    await assert.rejects(bob.run('SITE SYMLINK fox.txt bob-link'), (error: FtpError) => error.reply === 550);
  });

  test('the storage refuses a link text that leaves the root, whatever the command checked', async () => {
    const { home } = freshRoot();
    mkdirSync(join(home, 'dir'));
    const storage = new LocalStorage(home);
    await assert.rejects(storage.symlink('../../outside', '/dir/x'), (error: FtpError) => error.code === 'FERRY_ERR_PERMISSION');
    await assert.rejects(storage.symlink('/etc/passwd', '/dir/x'), (error: FtpError) => error.code === 'FERRY_ERR_PERMISSION');
    await storage.symlink('../dir', '/dir/up');
    assert.equal(readlinkSync(join(home, 'dir', 'up')), '../dir');
  });
});
