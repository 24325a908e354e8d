/**
 * Legacy charsets over a real control connection, with the bytes a GBK client (Chinese
 * Windows Explorer) or a Big5 one sends: names on disk are UTF-8, names on the wire are
 * the client's charset both ways, and a name the charset cannot represent is skipped in
 * listings and refused in commands, never mangled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { FtpConnection, type FtpReply } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';

const NAME = '中文文件名.txt';
const DIRECTORY = '目录';
/** A name GBK and Big5 have no form for. */
const EMOJI_NAME = 'photo-😀.jpg';
/** Simplified characters Big5 lacks (GBK has them). */
const SIMPLIFIED_NAME = '简体.txt';
const CONTENT = Buffer.from('GBK round trip\n'.repeat(1000));

const gbk = (text: string) => iconv.encode(text, 'gbk');
const big5 = (text: string) => iconv.encode(text, 'big5');
const utf8 = (text: string) => Buffer.from(text, 'utf8');
/** "VERB " and the argument's bytes, as a legacy client writes the line. */
const command = (verb: string, arg: Buffer) => Buffer.concat([Buffer.from(`${verb} `), arg]);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The CRLF-separated lines of a listing, as bytes. */
function listingLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = data.indexOf('\r\n'); end !== -1; end = data.indexOf('\r\n', start)) {
    lines.push(data.subarray(start, end));
    start = end + 2;
  }
  assert.equal(start, data.length, 'a listing ends with CRLF');
  return lines;
}

/** Whether `haystack` contains `needle`'s bytes. */
function carries(reply: FtpReply, needle: Buffer): boolean {
  return reply.raw.some((line) => line.includes(needle));
}

describe('charset = "gbk": names travel in GBK, disk names stay UTF-8', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ charset: 'gbk' }, { users: { carol: { charset: 'big5' } } });
    writeFileSync(join(server.root, EMOJI_NAME), 'no GBK form');
    writeFileSync(join(server.root, SIMPLIFIED_NAME), 'no Big5 form');
  });

  after(() => server.stop());

  test('STOR by a GBK name makes the UTF-8 name on disk; NLST, LIST, MLSD give its GBK bytes; RETR by it gives the bytes back', async () => {
    const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
    try {
      await ftp.expect('TYPE I', 200);
      const stored = await ftp.upload(command('STOR', gbk(NAME)), CONTENT);
      assert.equal(stored.final.code, 226, stored.final.lines.join('|'));
      assert.ok(readdirSync(server.root).includes(NAME), readdirSync(server.root).join(', '));
      assert.deepEqual(readFileSync(join(server.root, NAME)), CONTENT);

      const nlst = await ftp.download('NLST');
      const names = listingLines(nlst.data);
      assert.ok(names.some((line) => line.equals(gbk(NAME))), names.map((line) => line.toString('hex')).join(' '));
      assert.ok(!names.some((line) => line.equals(utf8(NAME))), 'no UTF-8 form on the wire');
      assert.ok(names.some((line) => line.equals(gbk(SIMPLIFIED_NAME))));

      const list = listingLines((await ftp.download('LIST')).data);
      assert.ok(list.some((line) => line.subarray(line.length - gbk(NAME).length).equals(gbk(NAME))));
      const mlsd = listingLines((await ftp.download('MLSD')).data);
      assert.ok(mlsd.some((line) => line.subarray(line.length - gbk(NAME).length - 1).equals(Buffer.concat([Buffer.from(' '), gbk(NAME)]))));

      const retrieved = await ftp.download(command('RETR', gbk(NAME)));
      assert.equal(retrieved.final.code, 226);
      assert.equal(sha256(retrieved.data), sha256(CONTENT));
      assert.ok(carries(retrieved.preliminary, gbk(NAME)), 'the 150 text names the file in GBK');

      const mlst = await ftp.expect(command('MLST', gbk(NAME)), 250);
      assert.ok(carries(mlst, gbk(`/${NAME}`)));
      const stat = await ftp.expect(command('STAT', gbk(NAME)), 213);
      assert.ok(carries(stat, gbk(NAME)));
    } finally {
      await ftp.quit();
    }
  });

  test('MKD and PWD replies carry GBK bytes; CWD by the GBK name enters the UTF-8 folder', async () => {
    const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
    try {
      const made = await ftp.expect(command('MKD', gbk(DIRECTORY)), 257);
      assert.deepEqual(made.raw[0]!.subarray(0, 4 + gbk(`"/${DIRECTORY}"`).length), Buffer.concat([Buffer.from('257 '), gbk(`"/${DIRECTORY}"`)]));
      assert.ok(readdirSync(server.root).includes(DIRECTORY));
      await ftp.expect(command('CWD', gbk(DIRECTORY)), 250);
      const pwd = await ftp.expect('PWD', 257);
      assert.ok(carries(pwd, gbk(`"/${DIRECTORY}"`)), pwd.raw.map((line) => line.toString('hex')).join(' '));
      assert.ok(!carries(pwd, utf8(DIRECTORY)));
    } finally {
      await ftp.quit();
    }
  });

  test('a name with no GBK form is skipped in listings; bytes that are not GBK are refused with 553, never mangled', async () => {
    const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
    const onDisk = readdirSync(server.root).sort();
    try {
      const names = listingLines((await ftp.download('NLST')).data).map((line) => iconv.decode(line, 'gbk'));
      assert.ok(!names.some((name) => name.startsWith('photo-')), names.join(', '));
      assert.ok(names.includes(SIMPLIFIED_NAME));
      const stat = await ftp.expect('STAT .', 213);
      assert.ok(!stat.raw.some((line) => line.includes(Buffer.from('photo-'))), 'STAT skips it too');
      assert.ok(carries(stat, gbk(SIMPLIFIED_NAME)));

      // A lead byte without its trail byte: not GBK at all.
      const broken = Buffer.from([0x61, 0x81, 0x2e, 0x6a, 0x70, 0x67]);
      assert.equal((await ftp.send(command('RETR', broken))).code, 553);
      assert.equal((await ftp.send(command('DELE', broken))).code, 553);
      assert.equal((await ftp.send(command('MKD', broken))).code, 553);
      await ftp.expect('EPSV', 229);
      assert.equal((await ftp.send(command('STOR', broken))).code, 553);
      // The emoji name's UTF-8 bytes read as GBK are other text: that file does not exist.
      assert.equal((await ftp.send(command('RETR', utf8(EMOJI_NAME)))).code, 550);
      assert.equal((await ftp.send(command('DELE', utf8(EMOJI_NAME)))).code, 550);
      assert.deepEqual(readdirSync(server.root).sort(), onDisk, 'nothing made, nothing deleted');
    } finally {
      await ftp.quit();
    }
  });

  test('after OPTS UTF8 ON the same session uses UTF-8 both ways (FEAT keeps UTF8; OFF stays refused)', async () => {
    writeFileSync(join(server.root, 'second-名.txt'), 'utf8');
    const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
    try {
      const before = listingLines((await ftp.download('NLST')).data);
      assert.ok(before.some((line) => line.equals(gbk('second-名.txt'))));
      await ftp.expect('OPTS UTF8 OFF', 504);
      await ftp.expect('OPTS UTF8 ON', 200);
      const feat = await ftp.expect('FEAT', 211);
      assert.ok(feat.lines.some((line) => line.trim() === 'UTF8'));
      const names = listingLines((await ftp.download('NLST')).data);
      assert.ok(names.some((line) => line.equals(utf8(EMOJI_NAME))), 'the emoji name is listed now');
      assert.ok(names.some((line) => line.equals(utf8('second-名.txt'))));
      assert.ok(!names.some((line) => line.equals(gbk('second-名.txt'))));
      const retrieved = await ftp.download(command('RETR', utf8(EMOJI_NAME)));
      assert.equal(retrieved.data.toString(), 'no GBK form');
      // GBK bytes are no longer understood: they are not UTF-8.
      assert.equal((await ftp.send(command('RETR', gbk(NAME)))).code, 553);
      await ftp.expect(command('MKD', utf8('😀-dir')), 257);
      await ftp.expect(command('CWD', utf8('😀-dir')), 250);
      assert.ok(carries(await ftp.expect('PWD', 257), utf8('"/😀-dir"')));
      // REIN logs out but keeps the client's choice.
      await ftp.expect('REIN', 220);
      await ftp.expect(command('USER', utf8('名')), 331).then((reply) => assert.ok(carries(reply, utf8('名'))));
    } finally {
      await ftp.quit();
    }
  });

  test('before login the site\'s GBK applies; a user with charset = "big5" gets Big5 after login', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    try {
      const named = await ftp.expect(command('USER', gbk('名')), 331);
      assert.ok(carries(named, gbk('名')), 'USER is answered in the site charset');
      await ftp.expect('USER carol', 331);
      await ftp.expect(`PASS ${PASSWORD}`, 230);
      await ftp.expect('TYPE I', 200);
      const names = listingLines((await ftp.download('NLST')).data);
      assert.ok(names.some((line) => line.equals(big5(NAME))), names.map((line) => line.toString('hex')).join(' '));
      assert.ok(!names.some((line) => line.equals(gbk(NAME))));
      assert.ok(!names.some((line) => iconv.decode(line, 'big5').startsWith('简')), 'no Big5 form: skipped');
      const retrieved = await ftp.download(command('RETR', big5(NAME)));
      assert.equal(sha256(retrieved.data), sha256(CONTENT));
      assert.ok(carries(await ftp.expect(command('MLST', big5(NAME)), 250), big5(NAME)));
      // REIN logs carol out: the site's GBK again.
      await ftp.expect('REIN', 220);
      assert.ok(carries(await ftp.expect(command('USER', gbk('名')), 331), gbk('名')));
    } finally {
      await ftp.quit();
    }
  });
});
