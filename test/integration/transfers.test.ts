/**
 * File transfers: RETR, STOR, STOU, APPE, REST (resume in both directions), ABOR (with
 * and without a transfer, with Telnet IP/DM), STAT during a transfer, TYPE A/I
 * conversion, and non-ASCII file names.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { sha256 } from '../helpers/data.js';
import { DATA_MODES, FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { allByteValues, connectionFails, lines, login, parseList, passivePort, readAll } from './support.js';

let server: TestServer;
/** A file large enough that a client that does not read stalls the transfer. */
const BIG_SIZE = 48 * 1024 * 1024;

before(async () => {
  server = await startServer();
  writeFileSync(join(server.root, 'big.bin'), Buffer.alloc(BIG_SIZE, 0x5a));
  writeFileSync(join(server.root, 'small.txt'), 'small file\n');
});

after(async () => {
  await server.stop();
});

async function sessionIn(folder: string): Promise<FtpConnection> {
  mkdirSync(join(server.root, folder), { recursive: true });
  const ftp = await login(server);
  await ftp.expect(`CWD /${folder}`, 250);
  return ftp;
}

/** REST must come right before the transfer command, so it goes after PASV/EPSV. */
async function restDownload(ftp: FtpConnection, offset: number, command: string): Promise<Buffer> {
  const dataSocket = await ftp.prepareData('EPSV');
  await ftp.expect(`REST ${offset}`, 350);
  await ftp.expect(command, 150);
  const data = await readAll(await dataSocket());
  assert.equal((await ftp.read()).code, 226);
  return data;
}

async function restUpload(ftp: FtpConnection, offset: number, command: string, payload: Buffer): Promise<void> {
  const dataSocket = await ftp.prepareData('EPSV');
  await ftp.expect(`REST ${offset}`, 350);
  await ftp.expect(command, 150);
  const socket = await dataSocket();
  socket.end(payload);
  await once(socket, 'close');
  assert.equal((await ftp.read()).code, 226);
}

/** Starts RETR of big.bin and leaves the data connection unread, so the transfer stalls. */
async function startStalledDownload(ftp: FtpConnection): Promise<Socket> {
  await ftp.expect('TYPE I', 200);
  const dataSocket = await ftp.prepareData('EPSV');
  await ftp.expect('RETR /big.bin', 150);
  return dataSocket();
}

describe('RETR and STOR', () => {
  test('TYPE I is byte-exact in both directions with all 256 byte values', async () => {
    const ftp = await sessionIn('binary');
    const payload = Buffer.concat([allByteValues(64), Buffer.from('\r\n\n\r\r\n'), allByteValues(1)]);
    await ftp.expect('TYPE I', 200);
    const up = await ftp.upload('STOR all.bin', payload);
    assert.equal(up.preliminary.code, 150);
    assert.equal(up.final.code, 226);
    assert.equal(sha256(readFileSync(join(server.root, 'binary', 'all.bin'))), sha256(payload));
    const down = await ftp.download('RETR all.bin');
    assert.equal(down.final.code, 226);
    assert.equal(sha256(down.data), sha256(payload));
    assert.equal((await ftp.expect('SIZE all.bin', 213)).text, String(payload.length));
    await ftp.quit();
  });

  test('TYPE L 8 is binary too', async () => {
    const ftp = await sessionIn('l8');
    const payload = allByteValues(2);
    await ftp.expect('TYPE L 8', 200);
    await ftp.upload('STOR l8.bin', payload);
    assert.equal(sha256(readFileSync(join(server.root, 'l8', 'l8.bin'))), sha256(payload));
    assert.equal(sha256((await ftp.download('RETR l8.bin')).data), sha256(payload));
    await ftp.quit();
  });

  test('a larger binary file round-trips (sha256)', async () => {
    const ftp = await sessionIn('large');
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 9)) & 0xff;
    await ftp.expect('TYPE I', 200);
    const up = await ftp.upload('STOR large.bin', payload);
    assert.equal(up.final.code, 226);
    assert.equal(sha256(readFileSync(join(server.root, 'large', 'large.bin'))), sha256(payload));
    const down = await ftp.download('RETR large.bin');
    assert.equal(sha256(down.data), sha256(payload));
    await ftp.quit();
  });

  test('TYPE A download turns LF into CRLF; TYPE A upload stores CRLF as LF', async () => {
    const ftp = await sessionIn('ascii');
    writeFileSync(join(server.root, 'ascii', 'unix.txt'), 'one\ntwo\n\nthree');
    await ftp.expect('TYPE A', 200);
    const down = await ftp.download('RETR unix.txt');
    assert.equal(down.data.toString(), 'one\r\ntwo\r\n\r\nthree');
    const up = await ftp.upload('STOR dos.txt', Buffer.from('alpha\r\nbeta\r\n\r\ngamma\r\n'));
    assert.equal(up.final.code, 226);
    assert.equal(readFileSync(join(server.root, 'ascii', 'dos.txt'), 'utf8'), 'alpha\nbeta\n\ngamma\n');
    // The same file in TYPE I comes back exactly as stored.
    await ftp.expect('TYPE I', 200);
    assert.equal((await ftp.download('RETR dos.txt')).data.toString(), 'alpha\nbeta\n\ngamma\n');
    await ftp.quit();
  });

  test('TYPE A keeps existing CRLF, handles CRLF across read-chunk and TCP-write boundaries, keeps a lone CR', async () => {
    const ftp = await sessionIn('ascii2');
    // The server reads files in 256 KiB chunks: put a CRLF right across the first boundary.
    const head = 'x'.repeat(256 * 1024 - 1);
    writeFileSync(join(server.root, 'ascii2', 'mixed.txt'), `${head}\r\ny\nalready\r\nlone\rcr\n`);
    await ftp.expect('TYPE A', 200);
    const down = await ftp.download('RETR mixed.txt');
    assert.equal(sha256(down.data), sha256(`${head}\r\ny\r\nalready\r\nlone\rcr\r\n`));
    // Upload with CR and LF in separate TCP writes.
    const dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect('STOR split.txt', 150);
    const socket = await dataSocket();
    socket.setNoDelay(true);
    for (const piece of ['one\r', '\ntwo\r', '\n', 'lone\r', 'cr\r']) {
      socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    socket.end();
    await once(socket, 'close');
    assert.equal((await ftp.read()).code, 226);
    assert.equal(readFileSync(join(server.root, 'ascii2', 'split.txt'), 'utf8'), 'one\ntwo\nlone\rcr\r');
    await ftp.quit();
  });

  test('STOR replaces an existing file; RETR of a missing file or a directory is 550', async () => {
    const ftp = await sessionIn('replace');
    writeFileSync(join(server.root, 'replace', 'f.txt'), 'old old old old');
    await ftp.expect('TYPE I', 200);
    await ftp.upload('STOR f.txt', Buffer.from('new'));
    assert.equal(readFileSync(join(server.root, 'replace', 'f.txt'), 'utf8'), 'new');
    await ftp.expect('RETR missing.txt', 550);
    mkdirSync(join(server.root, 'replace', 'dir'));
    await ftp.expect('RETR dir', 550);
    await ftp.expect('STOR dir', 550);
    await ftp.expect('STOR /no/such/dir/f.txt', 550);
    await ftp.expect('RETR', 501);
    assert.deepEqual(readdirSync(join(server.root, 'replace')).sort(), ['dir', 'f.txt']);
    await ftp.quit();
  });

  test('an empty upload creates an empty file; an empty file downloads as nothing', async () => {
    const ftp = await sessionIn('empty');
    await ftp.expect('TYPE I', 200);
    const up = await ftp.upload('STOR empty.bin', Buffer.alloc(0));
    assert.equal(up.final.code, 226);
    assert.equal(readFileSync(join(server.root, 'empty', 'empty.bin')).length, 0);
    const down = await ftp.download('RETR empty.bin');
    assert.equal(down.final.code, 226);
    assert.equal(down.data.length, 0);
    await ftp.quit();
  });
});

describe('STOU and APPE', () => {
  test('STOU without a name: 150 "FILE: name", and that file holds the data', async () => {
    const ftp = await sessionIn('stou');
    await ftp.expect('TYPE I', 200);
    const { preliminary, final } = await ftp.upload('STOU', Buffer.from('unique 1'));
    const match = /^FILE: (\S+)$/.exec(preliminary.text);
    assert.ok(match, preliminary.text);
    assert.equal(final.code, 226);
    assert.equal(readFileSync(join(server.root, 'stou', match[1]!), 'utf8'), 'unique 1');
    await ftp.quit();
  });

  test('STOU with a name that exists picks another name and leaves the original alone', async () => {
    const ftp = await sessionIn('stou2');
    writeFileSync(join(server.root, 'stou2', 'report.txt'), 'original');
    await ftp.expect('TYPE I', 200);
    const first = await ftp.upload('STOU fresh.txt', Buffer.from('fresh'));
    assert.equal(first.preliminary.text, 'FILE: fresh.txt');
    assert.equal(readFileSync(join(server.root, 'stou2', 'fresh.txt'), 'utf8'), 'fresh');
    const second = await ftp.upload('STOU report.txt', Buffer.from('second'));
    const name = /^FILE: (\S+)$/.exec(second.preliminary.text)?.[1];
    assert.ok(name && name !== 'report.txt', second.preliminary.text);
    assert.equal(second.final.code, 226);
    assert.equal(readFileSync(join(server.root, 'stou2', name), 'utf8'), 'second');
    assert.equal(readFileSync(join(server.root, 'stou2', 'report.txt'), 'utf8'), 'original');
    await ftp.quit();
  });

  test('APPE appends to an existing file and creates a missing one', async () => {
    const ftp = await sessionIn('appe');
    writeFileSync(join(server.root, 'appe', 'log.txt'), 'line 1\n');
    await ftp.expect('TYPE I', 200);
    const up = await ftp.upload('APPE log.txt', Buffer.from('line 2\n'));
    assert.equal(up.final.code, 226);
    await ftp.upload('APPE log.txt', Buffer.from('line 3\n'));
    assert.equal(readFileSync(join(server.root, 'appe', 'log.txt'), 'utf8'), 'line 1\nline 2\nline 3\n');
    await ftp.upload('APPE new.txt', Buffer.from('created'));
    assert.equal(readFileSync(join(server.root, 'appe', 'new.txt'), 'utf8'), 'created');
    await ftp.quit();
  });
});

describe('REST', () => {
  test('REST + RETR resumes the download at the offset', async () => {
    const ftp = await sessionIn('rest');
    const payload = allByteValues(3);
    writeFileSync(join(server.root, 'rest', 'r.bin'), payload);
    await ftp.expect('TYPE I', 200);
    const data = await restDownload(ftp, 100, 'RETR r.bin');
    assert.equal(sha256(data), sha256(payload.subarray(100)));
    const atEnd = await restDownload(ftp, payload.length, 'RETR r.bin');
    assert.equal(atEnd.length, 0);
    await ftp.quit();
  });

  test('REST + RETR in TYPE I works in every data mode', async () => {
    const ftp = await sessionIn('rest-modes');
    writeFileSync(join(server.root, 'rest-modes', 'f.txt'), 'abcdefghij');
    await ftp.expect('TYPE I', 200);
    for (const mode of DATA_MODES) {
      const dataSocket = await ftp.prepareData(mode);
      await ftp.expect('REST 7', 350);
      await ftp.expect('RETR f.txt', 150);
      assert.equal((await readAll(await dataSocket())).toString(), 'hij', mode);
      assert.equal((await ftp.read()).code, 226);
    }
    await ftp.quit();
  });

  test('REST + STOR resumes the upload at the offset, keeping the bytes before it', async () => {
    const ftp = await sessionIn('rest2');
    writeFileSync(join(server.root, 'rest2', 'partial.bin'), 'hello world, this tail is replaced');
    await ftp.expect('TYPE I', 200);
    await restUpload(ftp, 6, 'STOR partial.bin', Buffer.from('WORLD!'));
    assert.equal(readFileSync(join(server.root, 'rest2', 'partial.bin'), 'utf8'), 'hello WORLD!');
    await ftp.quit();
  });

  test('REST is cleared by any other command: REST, NOOP, RETR sends the whole file', async () => {
    const ftp = await sessionIn('rest3');
    writeFileSync(join(server.root, 'rest3', 'f.txt'), '0123456789');
    await ftp.expect('TYPE I', 200);
    // Data connection first, so that nothing but the NOOP comes between REST and RETR.
    let dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect('REST 5', 350);
    await ftp.expect('NOOP', 200);
    await ftp.expect('RETR f.txt', 150);
    assert.equal((await readAll(await dataSocket())).toString(), '0123456789');
    assert.equal((await ftp.read()).code, 226);
    // And for STOR: a cleared REST means a whole-file replacement.
    dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect('REST 5', 350);
    await ftp.expect('PWD', 257);
    await ftp.expect('STOR f.txt', 150);
    const socket = await dataSocket();
    socket.end('abc');
    await once(socket, 'close');
    assert.equal((await ftp.read()).code, 226);
    assert.equal(readFileSync(join(server.root, 'rest3', 'f.txt'), 'utf8'), 'abc');
    await ftp.quit();
  });

  test('REST beyond the end of the file: RETR gets 554; a bad REST argument is 501', async () => {
    const ftp = await sessionIn('rest4');
    writeFileSync(join(server.root, 'rest4', 'f.txt'), '0123456789');
    await ftp.expect('TYPE I', 200);
    await ftp.expect('REST 11', 350);
    await ftp.expect('RETR f.txt', 554);
    await ftp.expect('REST abc', 501);
    await ftp.expect('REST -1', 501);
    await ftp.expect('REST', 501);
    // The session is fine afterwards, and the failed REST left no offset behind.
    assert.equal((await ftp.download('RETR f.txt')).data.toString(), '0123456789');
    await ftp.quit();
  });
});

describe('ABOR and STAT during a transfer', () => {
  test('ABOR with no transfer is 225', async () => {
    const ftp = await login(server);
    await ftp.expect('ABOR', 225);
    // An ABOR also drops a prepared passive connection.
    await ftp.expect('EPSV', 229);
    await ftp.expect('ABOR', 225);
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });

  test('ABOR during a large RETR: 426 then 226, and the next RETR works', async () => {
    const ftp = await login(server);
    const data = await startStalledDownload(ftp);
    const received = readAll(data);
    data.pause();
    const abor = await ftp.send('ABOR');
    assert.equal(abor.code, 426, abor.lines.join(' | '));
    const done = await ftp.read();
    assert.equal(done.code, 226, done.lines.join(' | '));
    data.resume();
    const partial = await received;
    assert.ok(partial.length < BIG_SIZE, 'the transfer was cut short');
    const { data: small, final } = await ftp.download('RETR /small.txt');
    assert.equal(small.toString(), 'small file\n');
    assert.equal(final.code, 226);
    await ftp.quit();
  });

  for (const mode of DATA_MODES) {
    test(`${mode}: ABOR during a stalled RETR, then a full RETR in the same mode`, async () => {
      const ftp = await login(server);
      await ftp.expect('TYPE I', 200);
      const dataSocket = await ftp.prepareData(mode);
      await ftp.expect('RETR /big.bin', 150);
      const data = await dataSocket();
      const abor = await ftp.send('ABOR');
      assert.equal(abor.code, 426, abor.lines.join(' | '));
      assert.equal((await ftp.read()).code, 226);
      assert.ok((await readAll(data)).length < BIG_SIZE);
      const { data: small, final } = await ftp.download('RETR /small.txt', mode);
      assert.equal(small.toString(), 'small file\n');
      assert.equal(final.code, 226);
      await ftp.quit();
    });
  }

  test('ABOR and NOOP pipelined during a transfer: 426, 226, then 200', async () => {
    const ftp = await login(server);
    const data = await startStalledDownload(ftp);
    ftp.writeRaw('ABOR\r\nNOOP\r\n');
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await ftp.read()).code);
    assert.deepEqual(codes, [426, 226, 200]);
    data.destroy();
    await ftp.quit();
  });

  test('ABOR while the server waits for the passive data connection', async () => {
    const ftp = await login(server);
    const port = passivePort(await ftp.expect('EPSV', 229));
    await ftp.expect('RETR /small.txt', 150);
    const abor = await ftp.send('ABOR');
    assert.equal(abor.code, 426, abor.lines.join(' | '));
    assert.equal((await ftp.read()).code, 226);
    assert.equal(await connectionFails(server.host, port), true);
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });

  test('ABOR preceded by Telnet IAC IP and IAC DM is understood', async () => {
    const ftp = await login(server);
    const data = await startStalledDownload(ftp);
    const received = readAll(data);
    data.pause();
    ftp.writeRaw(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r\n')]));
    assert.equal((await ftp.read()).code, 426);
    assert.equal((await ftp.read()).code, 226);
    data.resume();
    await received;
    await ftp.expect('NOOP', 200);
    // IAC IP / IAC DM before ABOR with no transfer: plain 225.
    ftp.writeRaw(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r\n')]));
    assert.equal((await ftp.read()).code, 225);
    await ftp.quit();
  });

  test('STAT during a transfer reports it (211) without disturbing it', async () => {
    const ftp = await login(server);
    const data = await startStalledDownload(ftp);
    const stat = await ftp.send('STAT');
    assert.equal(stat.code, 211, stat.lines.join(' | '));
    assert.ok(stat.lines.length >= 3);
    assert.ok(
      stat.lines.some((line) => /RETR \/big\.bin/.test(line)),
      stat.lines.join(' | '),
    );
    const received = await readAll(data);
    assert.equal(received.length, BIG_SIZE);
    assert.equal((await ftp.read()).code, 226);
    await ftp.quit();
  });

  test('commands sent during a transfer wait their turn and are answered after 226', async () => {
    const ftp = await login(server);
    const data = await startStalledDownload(ftp);
    ftp.writeRaw('NOOP\r\nPWD\r\n');
    const received = await readAll(data);
    assert.equal(received.length, BIG_SIZE);
    assert.equal((await ftp.read()).code, 226);
    assert.equal((await ftp.read()).code, 200);
    assert.equal((await ftp.read()).code, 257);
    await ftp.quit();
  });
});

describe('file names', () => {
  for (const name of ['中文文件名.txt', 'name with spaces.txt', '  leading spaces.txt']) {
    test(`"${name}" round-trips through STOR, LIST, NLST, RETR, SIZE, DELE`, async () => {
      const folder = `names-${sha256(name).slice(0, 8)}`;
      const ftp = await sessionIn(folder);
      await ftp.expect('OPTS UTF8 ON', 200);
      await ftp.expect('TYPE I', 200);
      const payload = Buffer.from(`content of ${name}\n`, 'utf8');
      const up = await ftp.upload(`STOR ${name}`, payload);
      assert.equal(up.final.code, 226);
      assert.deepEqual(readdirSync(join(server.root, folder)), [name]);
      assert.equal(sha256(readFileSync(join(server.root, folder, name))), sha256(payload));
      const list = parseList((await ftp.download('LIST')).data);
      assert.deepEqual(
        list.map((e) => [e.name, e.size]),
        [[name, payload.length]],
      );
      assert.deepEqual(lines((await ftp.download('NLST')).data), [name]);
      assert.equal(sha256((await ftp.download(`RETR ${name}`)).data), sha256(payload));
      assert.equal((await ftp.expect(`SIZE ${name}`, 213)).text, String(payload.length));
      await ftp.expect(`RNFR ${name}`, 350);
      await ftp.expect(`RNTO renamed ${name}`, 250);
      assert.ok(existsSync(join(server.root, folder, `renamed ${name}`)));
      await ftp.expect(`DELE renamed ${name}`, 250);
      assert.deepEqual(readdirSync(join(server.root, folder)), []);
      await ftp.quit();
    });
  }

  test('a UTF-8 directory name in MKD, CWD and PWD', async () => {
    const ftp = await login(server);
    const mkd = await ftp.expect('MKD /目录 dir', 257);
    assert.match(mkd.text, /^"\/目录 dir" /);
    await ftp.expect('CWD /目录 dir', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/目录 dir" /);
    await ftp.quit();
  });
});

describe('data connection ends', () => {
  test('the data socket is closed by the server after RETR (EOF marks the end of the file)', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('PASV');
    await ftp.expect('RETR /small.txt', 150);
    const socket = await dataSocket();
    const received = readAll(socket);
    await once(socket, 'end');
    assert.equal((await received).toString(), 'small file\n');
    assert.equal((await ftp.read()).code, 226);
    await ftp.quit();
  });
});
