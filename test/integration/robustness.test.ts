/**
 * Hostile or clumsy clients: oversized lines, garbage, split and pipelined commands,
 * floods, disconnects in the middle of transfers, idle and stalled connections.
 * After each abuse the server (and usually the same session) must still work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../helpers/data.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { sleep, waitFor } from '../helpers/timing.js';
import { connectSocket, login, mapBounded, passivePort, readAll, readUntil } from './support.js';

let server: TestServer;
const BIG_SIZE = 32 * 1024 * 1024;

before(async () => {
  server = await startServer();
  writeFileSync(join(server.root, 'f.txt'), 'robust');
  writeFileSync(join(server.root, 'big.bin'), Buffer.alloc(BIG_SIZE, 0x33));
});

after(async () => {
  await server.stop();
});

/** The server still serves a complete new session. */
async function serverStillWorks(): Promise<void> {
  const ftp = await login(server);
  await ftp.expect('TYPE I', 200);
  const { data, final } = await ftp.download('RETR /f.txt');
  assert.equal(data.toString(), 'robust');
  assert.equal(final.code, 226);
  await ftp.quit();
}

describe('malformed input', () => {
  test('a 10 KB line gets 500 and the session continues', async () => {
    const ftp = await login(server);
    const reply = await ftp.send('NOOP ' + 'A'.repeat(10 * 1024));
    assert.equal(reply.code, 500, reply.lines.join(' | '));
    await ftp.expect('NOOP', 200);
    // The same, arriving in many pieces, and as a file name.
    for (let i = 0; i < 10; i++) ftp.writeRaw('B'.repeat(1024));
    ftp.writeRaw('\r\n');
    assert.equal((await ftp.read()).code, 500);
    assert.equal((await ftp.send('RETR ' + 'c'.repeat(9000))).code, 500);
    await ftp.expect('PWD', 257);
    await ftp.quit();
  });

  test('a 10 KB line before login also gets 500, and login still works', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    assert.equal((await ftp.send('USER ' + 'u'.repeat(10 * 1024))).code, 500);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.quit();
  });

  test('garbage bytes, invalid UTF-8, empty and blank lines get 500, not a crash', async () => {
    const ftp = await login(server);
    const garbage: Buffer[] = [
      Buffer.from([0x00, 0x01, 0x02, 0x80, 0x81, 0xfe, 0x7f, 0x0d, 0x0a]),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0d, 0x0a]),
      Buffer.from([0xed, 0xa0, 0x80, 0x20, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x0d, 0x0a]),
      Buffer.from('\r\n'),
      Buffer.from('\n'),
      Buffer.from('    \r\n'),
      Buffer.from('\t\t\r\n'),
      Buffer.from(' NOOP\r\n'),
      Buffer.from('NO\r\n'),
      Buffer.from('NOOPS\r\n'),
      Buffer.from('1234\r\n'),
      Buffer.from('N00P\r\n'),
      Buffer.from('%s%s%n%x\r\n'),
    ];
    for (const bytes of garbage) {
      ftp.writeRaw(bytes);
      const reply = await ftp.read();
      assert.equal(reply.code, 500, `${JSON.stringify(bytes.toString('latin1'))}: ${reply.lines.join(' | ')}`);
    }
    // A bare CR ends a line (see CommandLineReader): three CRs are three empty lines.
    ftp.writeRaw('\r\r\r\n');
    for (let i = 0; i < 3; i++) assert.equal((await ftp.read()).code, 500);
    await ftp.expect('NOOP', 200);
    // Invalid UTF-8 inside an argument is no name at all: 553, never a name with U+FFFD in it (see charset.ts).
    ftp.writeRaw(Buffer.concat([Buffer.from('RETR '), Buffer.from([0xff, 0xff, 0xc3, 0x28, 0x80]), Buffer.from('\r\n')]));
    assert.equal((await ftp.read()).code, 553);
    ftp.writeRaw(Buffer.concat([Buffer.from('CWD '), Buffer.from([0xfe, 0xfe, 0x80]), Buffer.from('\r\n')]));
    assert.equal((await ftp.read()).code, 553);
    await ftp.expect('PWD', 257);
    await ftp.quit();
    await serverStillWorks();
  });

  test('unknown verbs get 500; verbs are case-insensitive; a bare LF ends a line', async () => {
    const ftp = await login(server);
    await ftp.expect('XYZZ', 500);
    await ftp.expect('FOO bar', 500);
    await ftp.expect('noop', 200);
    await ftp.expect('NoOp', 200);
    ftp.writeRaw('NOOP\n');
    assert.equal((await ftp.read()).code, 200);
    ftp.writeRaw('SYST\n');
    assert.equal((await ftp.read()).code, 215);
    await ftp.quit();
  });

  test('a CR or Telnet bytes inside a line cannot forge a reply line', async () => {
    const ftp = await login(server);
    // A bare CR ends the line, so the rest is a separate (unknown) command, never reply text.
    ftp.writeRaw('MKD /inj\rected 220 fake\r\n');
    const mkd = await ftp.read();
    assert.equal(mkd.code, 257);
    assert.equal(mkd.lines.length, 1);
    assert.doesNotMatch(mkd.lines[0]!, /\r/);
    const rest = await ftp.read();
    assert.equal(rest.code, 500);
    assert.equal(rest.lines.length, 1);
    ftp.writeRaw(Buffer.concat([Buffer.from('NO'), Buffer.from([0xff, 0xfb, 0x01]), Buffer.from('OP\r\n')]));
    assert.equal((await ftp.read()).code, 200, 'IAC WILL option is stripped');
    ftp.writeRaw(Buffer.concat([Buffer.from('NOOP'), Buffer.from([0xff, 0xf1]), Buffer.from('\r\n')]));
    assert.equal((await ftp.read()).code, 200, 'IAC NOP is stripped');
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });
});

describe('split and pipelined commands', () => {
  test('commands written one byte at a time work', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    ftp.socket.setNoDelay(true);
    const script = `USER ${USER}\r\nPASS ${PASSWORD}\r\nPWD\r\n`;
    const bytes = Buffer.from(script);
    for (let i = 0; i < bytes.length; i++) {
      ftp.writeRaw(bytes.subarray(i, i + 1));
      await sleep(1);
    }
    assert.equal((await ftp.read()).code, 331);
    assert.equal((await ftp.read()).code, 230);
    assert.equal((await ftp.read()).code, 257);
    await ftp.quit();
  });

  test('an IAC sequence split across writes is still stripped', async () => {
    const ftp = await login(server);
    for (const piece of [Buffer.from('NO'), Buffer.from([0xff]), Buffer.from([0xfd]), Buffer.from([0x03]), Buffer.from('OP\r'), Buffer.from('\n')]) {
      ftp.writeRaw(piece);
      await sleep(5);
    }
    assert.equal((await ftp.read()).code, 200);
    await ftp.quit();
  });

  test('several commands in one write are answered in order', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    ftp.writeRaw(`USER ${USER}\r\nPASS ${PASSWORD}\r\nPWD\r\nTYPE I\r\nSYST\r\nNOOP\r\nCWD /nope\r\nMKD /piped\r\nCWD /piped\r\nPWD\r\n`);
    const codes: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const reply = await ftp.read();
      codes.push(reply.code);
      texts.push(reply.text);
    }
    assert.deepEqual(codes, [331, 230, 257, 200, 215, 200, 550, 257, 250, 257]);
    assert.match(texts[9]!, /^"\/piped" /);
    await ftp.quit();
  });

  test('commands pipelined behind a transfer are answered after its 226', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const port = passivePort(await ftp.expect('EPSV', 229));
    const socket = await connectSocket(server.host, port);
    const received = readAll(socket);
    ftp.writeRaw('RETR f.txt\r\nNOOP\r\nSYST\r\nPWD\r\n');
    assert.equal((await received).toString(), 'robust');
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await ftp.read()).code);
    assert.deepEqual(codes, [150, 226, 200, 215, 257]);
    await ftp.quit();
  });

  test('a flood of 100 pipelined lines gets 421 and the connection is closed', async () => {
    const ftp = await login(server);
    ftp.writeRaw('NOOP\r\n'.repeat(100));
    const replies = await readUntil(ftp, 421, 101);
    assert.ok(replies.slice(0, -1).every((reply) => reply.code === 200));
    assert.ok(replies.length < 100, `got ${replies.length} replies`);
    assert.equal(await ftp.closedByServer(), true);
    ftp.socket.destroy();
    await serverStillWorks();
  });
});

describe('disconnects', () => {
  test('a client that vanishes in the middle of a RETR does not hurt the server', async () => {
    assert.ok(await waitFor(() => server.server.sessionCount === 0), 'sessions of earlier tests linger');
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect('RETR /big.bin', 150);
    const socket = await dataSocket();
    // Read a little, then drop everything.
    await once(socket, 'data');
    socket.destroy();
    ftp.socket.destroy();
    assert.ok(await waitFor(() => server.server.sessionCount === 0), 'the session was not cleaned up');
    await serverStillWorks();
  });

  test('a data connection reset mid-RETR gets 426 and the session continues', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('PASV');
    await ftp.expect('RETR /big.bin', 150);
    const socket = await dataSocket();
    await once(socket, 'data');
    socket.resetAndDestroy();
    const reply = await ftp.read();
    assert.equal(reply.code, 426, reply.lines.join(' | '));
    const { data } = await ftp.download('RETR /f.txt');
    assert.equal(data.toString(), 'robust');
    await ftp.quit();
  });

  test('a client that closes the control connection before the data connection opens', async () => {
    assert.ok(await waitFor(() => server.server.sessionCount === 0), 'sessions of earlier tests linger');
    const ftp = await login(server);
    const port = passivePort(await ftp.expect('PASV', 227));
    await ftp.expect('RETR /f.txt', 150);
    ftp.socket.destroy();
    assert.ok(await waitFor(() => server.server.sessionCount === 0), `sessions: ${server.server.sessionCount}, expected 0`);
    // The passive listener went away with the session.
    assert.ok(
      await waitFor(async () => {
        try {
          const s = await connectSocket(server.host, port);
          s.destroy();
          return false;
        } catch {
          return true;
        }
      }),
    );
    await serverStillWorks();
  });

  test('50 connections opened and dropped at once, without QUIT, are all cleaned up', async () => {
    assert.ok(await waitFor(() => server.server.sessionCount === 0), 'sessions of earlier tests linger');
    const connections = await mapBounded(Array.from({ length: 50 }), 25, () => FtpConnection.connect(server.host, server.port));
    for (const connection of connections) assert.equal(connection.greeting.code, 220);
    for (const connection of connections) connection.socket.destroy();
    assert.ok(await waitFor(() => server.server.sessionCount === 0), `sessions: ${server.server.sessionCount}, expected 0`);
    await serverStillWorks();
  });
});

describe('timeouts', () => {
  test('an idle control connection gets 421 and is closed', async () => {
    const idle = await startServer({ timeouts: { idle: 1 } });
    try {
      const ftp = await login(idle);
      const reply = await ftp.read(10_000);
      assert.equal(reply.code, 421, reply.lines.join(' | '));
      assert.equal(await ftp.closedByServer(), true);
      ftp.socket.destroy();
    } finally {
      await idle.stop();
    }
  });

  test('the idle timeout does not close a session whose transfer outlasts it', async () => {
    const idle = await startServer({ timeouts: { idle: 1 } });
    try {
      writeFileSync(join(idle.root, 'big.bin'), Buffer.alloc(BIG_SIZE, 2));
      const ftp = await login(idle);
      await ftp.expect('TYPE I', 200);
      const dataSocket = await ftp.prepareData('EPSV');
      await ftp.expect('RETR big.bin', 150);
      const socket = await dataSocket();
      await sleep(2500); // longer than the idle timeout, with the transfer stalled
      const data = await readAll(socket);
      assert.equal(data.length, BIG_SIZE);
      const reply = await ftp.read();
      assert.equal(reply.code, 226, reply.lines.join(' | '));
      await ftp.expect('NOOP', 200);
      await ftp.quit();
    } finally {
      await idle.stop();
    }
  });

  test('a stalled data connection is aborted with 426 and the session continues', async () => {
    const stalled = await startServer({ timeouts: { data_idle: 1 } });
    try {
      writeFileSync(join(stalled.root, 'big.bin'), Buffer.alloc(BIG_SIZE, 1));
      writeFileSync(join(stalled.root, 'small.bin'), Buffer.from('small'));
      const ftp = await login(stalled);
      await ftp.expect('TYPE I', 200);
      const dataSocket = await ftp.prepareData('EPSV');
      await ftp.expect('RETR big.bin', 150);
      const socket = await dataSocket(); // never read: the server's writes stall
      const reply = await ftp.read(15_000);
      assert.equal(reply.code, 426, reply.lines.join(' | '));
      socket.destroy();
      const { data } = await ftp.download('RETR small.bin');
      assert.equal(sha256(data), sha256('small'));
      // A stalled upload as well: the client connects and sends nothing.
      const upload = await ftp.prepareData('EPSV');
      await ftp.expect('STOR stalled-upload.bin', 150);
      const uploadSocket = await upload();
      uploadSocket.write('partial');
      assert.equal((await ftp.read(15_000)).code, 426);
      uploadSocket.destroy();
      assert.ok(await waitFor(() => !readdirSync(stalled.root).some((name) => name.startsWith('.ferry-upload-'))));
      assert.equal(readdirSync(stalled.root).includes('stalled-upload.bin'), false);
      await ftp.quit();
    } finally {
      await stalled.stop();
    }
  });
});

describe('limits', () => {
  test('max_clients: a connection over the limit gets 421 and is closed', async () => {
    const limited = await startServer({ max_clients: 2 });
    try {
      const a = await FtpConnection.connect(limited.host, limited.port);
      const b = await FtpConnection.connect(limited.host, limited.port);
      const c = await FtpConnection.connect(limited.host, limited.port);
      assert.equal(a.greeting.code, 220);
      assert.equal(b.greeting.code, 220);
      assert.equal(c.greeting.code, 421);
      assert.equal(await c.closedByServer(), true);
      c.socket.destroy();
      await a.quit();
      assert.ok(await waitFor(() => limited.server.sessionCount === 1));
      const d = await FtpConnection.connect(limited.host, limited.port);
      assert.equal(d.greeting.code, 220);
      await b.quit();
      await d.quit();
    } finally {
      await limited.stop();
    }
  });

  test('max_per_ip: a connection over the per-address limit gets 421; other addresses may connect', async () => {
    const limited = await startServer({ max_per_ip: 1 });
    try {
      const a = await FtpConnection.connect(limited.host, limited.port);
      const b = await FtpConnection.connect(limited.host, limited.port);
      assert.equal(a.greeting.code, 220);
      assert.equal(b.greeting.code, 421);
      b.socket.destroy();
      const other = await FtpConnection.connect(limited.host, limited.port, { localAddress: '127.0.0.5' });
      assert.equal(other.greeting.code, 220);
      await other.quit();
      await a.quit();
    } finally {
      await limited.stop();
    }
  });

  test('a name longer than the file system allows is refused (553), not a crash', async () => {
    const ftp = await login(server);
    await ftp.expect('MKD /' + 'n'.repeat(300), 553);
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('EPSV');
    const stor = await ftp.send('STOR /' + 'm'.repeat(300));
    if (stor.code === 150) {
      // The name is only tried when the upload is committed: the data is discarded then.
      const socket = await dataSocket();
      socket.end('data for an impossible name');
      await once(socket, 'close');
      const final = await ftp.read();
      assert.equal(final.code, 553, final.lines.join(' | '));
    } else {
      assert.equal(stor.code, 553, stor.lines.join(' | '));
      await ftp.expect('ABOR', 225);
    }
    assert.ok(await waitFor(() => !readdirSync(server.root).some((name) => name.startsWith('.ferry-upload-'))));
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });
});
