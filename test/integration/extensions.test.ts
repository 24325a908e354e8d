/**
 * The extension commands over real connections: HASH against node:crypto and the
 * coreutils sha256sum, ranges, confinement, MFMT, SITE CHMOD/SYMLINK and what a
 * read-only user may not do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { findBinary, runProcess } from '../helpers/run-process.js';
import { READONLY_USER, startServer, withTestServer, type TestServer } from '../helpers/server.js';
import { login } from './support.js';

let server: TestServer;
/** 3 MiB + 7 bytes: several read chunks, not a round size. */
const DATA = randomBytes(3 * 1024 * 1024 + 7);
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

before(async () => {
  server = await startServer();
  writeFileSync(join(server.root, 'data.bin'), DATA);
});

after(async () => {
  await server.stop();
});

describe('HASH and the X-digests', () => {
  test('HASH equals node:crypto for every algorithm, and sha256sum', async () => {
    const ftp = await login(server);
    const sha256 = await ftp.expect('HASH data.bin', 213);
    assert.equal(sha256.text, `SHA-256 0-${DATA.length - 1} ${hex('sha256', DATA)} data.bin`);
    const sha256sum = findBinary('sha256sum');
    if (sha256sum) {
      const run = await runProcess(sha256sum, [join(server.root, 'data.bin')], { timeoutMs: 10_000 });
      assert.equal(run.stdout.toString().split(' ')[0], sha256.text.split(' ')[2], 'coreutils agrees');
    }
    for (const [name, digest] of [['SHA-1', hex('sha1', DATA)], ['MD5', hex('md5', DATA)], ['CRC32', zlib.crc32(DATA).toString(16).padStart(8, '0')]]) {
      await ftp.expect(`OPTS HASH ${name}`, 200);
      assert.equal((await ftp.expect('HASH data.bin', 213)).text, `${name} 0-${DATA.length - 1} ${digest} data.bin`);
    }
    const feat = await ftp.expect('FEAT', 211);
    assert.ok(feat.lines.includes(' HASH SHA-256;SHA-1;MD5;CRC32*'), feat.lines.join(' | '));
    await ftp.quit();
  });

  test('RANG then HASH hashes the range; XCRC and XSHA256 answer 250 with the uppercase digest', async () => {
    const ftp = await login(server);
    await ftp.expect('RANG 1048570 2097160', 350);
    const ranged = await ftp.expect('HASH data.bin', 213);
    assert.equal(ranged.text, `SHA-256 1048570-2097160 ${hex('sha256', DATA.subarray(1048570, 2097161))} data.bin`);
    assert.equal((await ftp.expect('XSHA256 data.bin', 250)).text, hex('sha256', DATA).toUpperCase());
    assert.equal((await ftp.expect('XCRC data.bin 10 20', 250)).text, zlib.crc32(DATA.subarray(10, 20)).toString(16).padStart(8, '0').toUpperCase());
    await ftp.quit();
  });

  test('paths outside the root are refused: "..", absolute host paths and links out of it', async () => {
    const outside = join(server.scratch, 'outside.txt');
    writeFileSync(outside, 'not yours');
    symlinkSync(outside, join(server.root, 'escape'));
    const ftp = await login(server);
    for (const path of ['escape', '../scratch/outside.txt', outside]) {
      const refused = await ftp.send(`HASH ${path}`);
      assert.equal(refused.code, 550, `${path}: ${refused.lines.join(' | ')}`);
      assert.doesNotMatch(refused.text, /[0-9a-f]{64}/);
      assert.equal((await ftp.send(`XMD5 ${path}`)).code, 550, path);
    }
    await ftp.quit();
  });
});

describe('MFMT, SITE CHMOD, SITE UTIME, SITE SYMLINK', () => {
  test('MFMT sets the time MDTM then reports; SITE CHMOD 4755 ends up 0755 on disk', async () => {
    writeFileSync(join(server.root, 'times.txt'), 'x');
    const ftp = await login(server);
    assert.equal((await ftp.expect('MFMT 20210102030405 times.txt', 213)).text, 'Modify=20210102030405; times.txt');
    assert.equal((await ftp.expect('MDTM times.txt', 213)).text, '20210102030405');
    assert.equal(statSync(join(server.root, 'times.txt')).mtime.toISOString(), '2021-01-02T03:04:05.000Z');
    await ftp.expect('SITE CHMOD 4755 times.txt', 200);
    assert.equal(statSync(join(server.root, 'times.txt')).mode & 0o7777, 0o755);
    await ftp.expect('SITE UTIME 20220304050607 times.txt', 200);
    assert.equal(statSync(join(server.root, 'times.txt')).mtime.toISOString(), '2022-03-04T05:06:07.000Z');
    const feat = await ftp.expect('FEAT', 211);
    assert.ok(feat.lines.includes(' MFMT') && !feat.lines.includes(' MFCT'), feat.lines.join(' | '));
    await ftp.expect('MFCT 20210102030405 times.txt', 502);
    await ftp.quit();
  });

  test('a read-only user is refused MFMT and SITE CHMOD', async () => {
    writeFileSync(join(server.root, 'ro.txt'), 'x');
    const before = statSync(join(server.root, 'ro.txt'));
    const ftp = await login(server, READONLY_USER);
    await ftp.expect('MFMT 20210102030405 ro.txt', 550);
    await ftp.expect('SITE CHMOD 777 ro.txt', 550);
    await ftp.expect('HASH ro.txt', 213);
    const after = statSync(join(server.root, 'ro.txt'));
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.mode, before.mode);
    await ftp.quit();
  });

  test('SITE SYMLINK is off by default (502)', async () => {
    const ftp = await login(server);
    await ftp.expect('SITE SYMLINK data.bin link.bin', 502);
    assert.equal(lstatSync(join(server.root, 'link.bin'), { throwIfNoEntry: false }), undefined);
    const help = await ftp.expect('SITE HELP', 214);
    assert.ok(!help.lines.join(' ').includes('SYMLINK'), help.lines.join(' | '));
    await ftp.quit();
  });

  test('with extensions.site_symlink on: a link inside the root works, an escaping one is refused', () =>
    withTestServer({ extensions: { site_symlink: true } }, async (linking) => {
      mkdirSync(join(linking.root, 'docs'));
      writeFileSync(join(linking.root, 'docs', 'a.txt'), 'inside');
      const ftp = await login(linking);
      await ftp.expect('MKD links', 257);
      await ftp.expect('SITE SYMLINK ../docs/a.txt links/a.txt', 200);
      assert.equal(readlinkSync(join(linking.root, 'links', 'a.txt')), '../docs/a.txt');
      assert.equal((await ftp.download('RETR links/a.txt')).data.toString(), 'inside');
      for (const target of ['../../scratch', '/etc/passwd', '../../../../../../etc/passwd']) {
        await ftp.expect(`SITE SYMLINK ${target} links/out`, 550);
      }
      assert.equal(lstatSync(join(linking.root, 'links', 'out'), { throwIfNoEntry: false }), undefined);
      await ftp.quit();
    }));
});
