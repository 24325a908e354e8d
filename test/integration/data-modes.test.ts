/**
 * Data connections: every transfer command in PASV, EPSV, PORT and EPRT; passive
 * listener replacement and timeouts; passive port ranges, exhaustion and many
 * concurrent sessions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { closedPort } from '../helpers/ports.js';
import { join } from 'node:path';
import { DATA_MODES, FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { encodeHostPort } from '../../src/protocol/address.js';
import { sha256 } from '../helpers/data.js';
import { allByteValues, connectionFails, connectSocket, findFreePortRange, lines, login, mapBounded, parseList, parseMlsx, passivePort, readAll } from './support.js';

describe('every transfer command in every data mode', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  for (const mode of DATA_MODES) {
    test(`${mode}: RETR, STOR, APPE, STOU, LIST, NLST, MLSD`, async () => {
      const dir = join(server.root, mode);
      mkdirSync(dir);
      const payload = Buffer.concat([allByteValues(8), Buffer.from(mode)]);
      writeFileSync(join(dir, 'src.bin'), payload);
      const ftp = await login(server);
      await ftp.expect(`CWD /${mode}`, 250);
      await ftp.expect('TYPE I', 200);

      const retr = await ftp.download('RETR src.bin', mode);
      assert.equal(retr.preliminary.code, 150);
      assert.equal(retr.final.code, 226);
      assert.equal(sha256(retr.data), sha256(payload));

      const stor = await ftp.upload('STOR up.bin', payload, mode);
      assert.equal(stor.final.code, 226);
      assert.equal(sha256(readFileSync(join(dir, 'up.bin'))), sha256(payload));

      const appe = await ftp.upload('APPE up.bin', Buffer.from('tail'), mode);
      assert.equal(appe.final.code, 226);
      assert.equal(sha256(readFileSync(join(dir, 'up.bin'))), sha256(Buffer.concat([payload, Buffer.from('tail')])));

      const stou = await ftp.upload('STOU', Buffer.from('unique'), mode);
      assert.equal(stou.final.code, 226);
      const unique = /^FILE: (\S+)$/.exec(stou.preliminary.text)?.[1];
      assert.ok(unique, stou.preliminary.text);
      assert.equal(readFileSync(join(dir, unique), 'utf8'), 'unique');

      const expected = ['src.bin', unique, 'up.bin'].sort();
      const list = await ftp.download('LIST', mode);
      assert.equal(list.final.code, 226);
      assert.deepEqual(
        parseList(list.data).map((e) => [e.name, e.size]),
        expected.map((name) => [name, statSync(join(dir, name)).size]),
      );

      const nlst = await ftp.download('NLST', mode);
      assert.equal(nlst.final.code, 226);
      assert.deepEqual(lines(nlst.data), expected);

      const mlsd = await ftp.download('MLSD', mode);
      assert.equal(mlsd.final.code, 226);
      assert.deepEqual(
        lines(mlsd.data)
          .map(parseMlsx)
          .map((e) => [e.name, e.facts.size])
          .sort(),
        expected.map((name) => [name, String(statSync(join(dir, name)).size)]),
      );
      await ftp.quit();
    });
  }

  test('a new PASV or EPSV closes the previous passive listener', async () => {
    writeFileSync(join(server.root, 'pasv.txt'), 'pasv replaced');
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    for (const [first, second] of [
      ['PASV', 'PASV'],
      ['EPSV', 'EPSV'],
      ['PASV', 'EPSV'],
      ['EPSV', 'PASV'],
    ] as const) {
      const oldPort = passivePort(await ftp.send(first));
      const newReply = await ftp.send(second);
      const newPort = passivePort(newReply);
      if (oldPort !== newPort) assert.equal(await connectionFails(server.host, oldPort), true, `${first} port still open after ${second}`);
      const socket = await connectSocket(server.host, newPort);
      const received = readAll(socket);
      await ftp.expect('RETR pasv.txt', 150);
      assert.equal((await received).toString(), 'pasv replaced');
      assert.equal((await ftp.read()).code, 226);
    }
    await ftp.quit();
  });

  test('PORT after PASV closes the passive listener and the transfer goes active', async () => {
    writeFileSync(join(server.root, 'mixed.txt'), 'mixed');
    const ftp = await login(server);
    const oldPort = passivePort(await ftp.expect('PASV', 227));
    const { data, final } = await ftp.download('RETR mixed.txt', 'PORT');
    assert.equal(data.toString(), 'mixed');
    assert.equal(final.code, 226);
    assert.equal(await connectionFails(server.host, oldPort), true);
    await ftp.quit();
  });

  test('one preparation serves one transfer; a transfer without one gets 425 (and no 150)', async () => {
    writeFileSync(join(server.root, 'once.txt'), 'once');
    const ftp = await login(server);
    await ftp.expect('RETR once.txt', 425);
    const { data } = await ftp.download('RETR once.txt', 'EPSV');
    assert.equal(data.toString(), 'once');
    await ftp.expect('LIST', 425);
    await ftp.expect('STOR new.txt', 425);
    assert.equal(existsSync(join(server.root, 'new.txt')), false, 'a refused STOR creates nothing');
    assert.deepEqual(readdirSync(server.root).filter((name) => name.startsWith('.ferry-upload-')), []);
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });

  test('PORT to a port where nobody listens: 425 without a 150, naming the target and the reason; the session goes on', async () => {
    writeFileSync(join(server.root, 'active.txt'), 'active');
    const ftp = await login(server);
    const port = await closedPort();
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', port)}`, 200);
    const refused = await ftp.expect('RETR active.txt', 425);
    assert.equal(refused.text, `Can't open data connection to 127.0.0.1:${port}: connection refused.`);
    await ftp.expect(`EPRT |1|127.0.0.1|${port}|`, 200);
    await ftp.expect('LIST', 425);
    const { data } = await ftp.download('RETR active.txt', 'PORT');
    assert.equal(data.toString(), 'active');
    await ftp.quit();
  });

  test('malformed PORT and EPRT arguments are 501; an unknown EPRT family 522; EPSV 2 on IPv4 522', async () => {
    const ftp = await login(server);
    for (const arg of ['1,2,3', '127,0,0,1,300,1', '127,0,0,1,0,0', 'a,b,c,d,e,f', '127,0,0,1,4']) {
      await ftp.expect(`PORT ${arg}`, 501);
    }
    await ftp.expect('PORT', 501);
    for (const arg of ['|1|127.0.0.1|', '|1|::1|5000|', '|1|127.0.0.1|0|', '|1|127.0.0.1|70000|', 'garbage']) {
      await ftp.expect(`EPRT ${arg}`, 501);
    }
    await ftp.expect('EPRT |3|127.0.0.1|5000|', 522);
    const epsv2 = await ftp.expect('EPSV 2', 522);
    assert.match(epsv2.text, /\(1\)/);
    await ftp.expect('EPSV 1', 229);
    await ftp.quit();
  });
});

describe('data connection timeout', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ timeouts: { data_connect: 1 } });
    writeFileSync(join(server.root, 'f.txt'), 'timeout test');
  });
  after(async () => {
    await server.stop();
  });

  for (const mode of ['PASV', 'EPSV'] as const) {
    test(`${mode}: a client that never connects gets 425 and the session stays usable`, async () => {
      const ftp = await login(server);
      const port = passivePort(await ftp.send(mode));
      await ftp.expect('RETR f.txt', 150);
      const reply = await ftp.read();
      assert.equal(reply.code, 425, reply.lines.join(' | '));
      // The listener is gone with the timeout.
      assert.equal(await connectionFails(server.host, port), true);
      await ftp.expect('NOOP', 200);
      const { data, final } = await ftp.download('RETR f.txt', mode);
      assert.equal(data.toString(), 'timeout test');
      assert.equal(final.code, 226);
      await ftp.quit();
    });
  }

  test('an upload whose client never connects gets 425 and creates nothing', async () => {
    const ftp = await login(server);
    await ftp.expect('EPSV', 229);
    await ftp.expect('STOR never.txt', 150);
    assert.equal((await ftp.read()).code, 425);
    assert.deepEqual(readdirSync(server.root).sort(), ['f.txt']);
    await ftp.quit();
  });
});

describe('passive port range', () => {
  test('227 and 229 ports fall inside the configured range', async () => {
    const range = await findFreePortRange(4);
    const server = await startServer({ passive: { ports: range.spec } });
    try {
      writeFileSync(join(server.root, 'f.txt'), 'range');
      const ftp = await login(server);
      for (let i = 0; i < 6; i++) {
        const mode = i % 2 === 0 ? 'PASV' : 'EPSV';
        const { data, final } = await ftp.download('RETR f.txt', mode);
        assert.equal(data.toString(), 'range');
        assert.equal(final.code, 226);
      }
      for (let i = 0; i < 4; i++) {
        const port = passivePort(await ftp.send(i % 2 === 0 ? 'PASV' : 'EPSV'));
        assert.ok(port >= range.min && port <= range.max, `${port} outside ${range.spec}`);
        await ftp.expect('ABOR', 225);
      }
      await ftp.quit();
    } finally {
      await server.stop();
    }
  });

  test('a one-port range: a second session gets 425 until the first transfer is done', async () => {
    const range = await findFreePortRange(1);
    const server = await startServer({ passive: { ports: range.spec } });
    try {
      writeFileSync(join(server.root, 'f.txt'), 'one port');
      const first = await login(server);
      const second = await login(server);
      const port = passivePort(await first.expect('PASV', 227));
      assert.equal(port, range.min);
      await second.expect('PASV', 425);
      await second.expect('EPSV', 425);
      const socket = await connectSocket(server.host, port);
      const received = readAll(socket);
      await first.expect('RETR f.txt', 150);
      assert.equal((await received).toString(), 'one port');
      assert.equal((await first.read()).code, 226);
      // The port is free again.
      const { data, final } = await second.download('RETR f.txt', 'PASV');
      assert.equal(data.toString(), 'one port');
      assert.equal(final.code, 226);
      await first.quit();
      await second.quit();
    } finally {
      await server.stop();
    }
  });

  test(
    'a one-port range: the same session may PASV again (the replaced listener frees the port)',
    async () => {
      const range = await findFreePortRange(1);
      const server = await startServer({ passive: { ports: range.spec } });
      try {
        writeFileSync(join(server.root, 'f.txt'), 'again');
        const ftp = await login(server);
        await ftp.expect('PASV', 227);
        const again = await ftp.send('PASV');
        assert.equal(again.code, 227, again.lines.join(' | '));
        const { data } = await ftp.download('RETR f.txt', 'EPSV');
        assert.equal(data.toString(), 'again');
        await ftp.quit();
      } finally {
        await server.stop();
      }
    },
  );

  test('a one-port range: back-to-back transfers in one session all get the port', async () => {
    const range = await findFreePortRange(1);
    const server = await startServer({ passive: { ports: range.spec } });
    try {
      writeFileSync(join(server.root, 'f.txt'), 'serial');
      const ftp = await login(server);
      for (let i = 0; i < 10; i++) {
        const { data, final } = await ftp.download('RETR f.txt', i % 2 === 0 ? 'PASV' : 'EPSV');
        assert.equal(data.toString(), 'serial', `transfer ${i}`);
        assert.equal(final.code, 226);
      }
      await ftp.quit();
    } finally {
      await server.stop();
    }
  });

  test('30 sessions asking for PASV at once all get distinct ports in the range', async () => {
    const SESSIONS = 30;
    const range = await findFreePortRange(SESSIONS + 5);
    const server = await startServer({ passive: { ports: range.spec } });
    const sessions: FtpConnection[] = [];
    try {
      writeFileSync(join(server.root, 'f.txt'), 'many');
      sessions.push(...(await mapBounded(Array.from({ length: SESSIONS }), 10, () => login(server))));
      const replies = await Promise.all(sessions.map((ftp) => ftp.send('PASV')));
      for (const reply of replies) assert.equal(reply.code, 227, reply.lines.join(' | '));
      const ports = replies.map(passivePort);
      assert.equal(new Set(ports).size, SESSIONS, `duplicate ports: ${ports.join(',')}`);
      for (const port of ports) assert.ok(port >= range.min && port <= range.max, `${port} outside ${range.spec}`);
      // Every session can use its port.
      await Promise.all(
        sessions.map(async (ftp, i) => {
          const socket = await connectSocket(server.host, ports[i]!);
          const received = readAll(socket);
          await ftp.expect('RETR f.txt', 150);
          assert.equal((await received).toString(), 'many');
          assert.equal((await ftp.read()).code, 226);
        }),
      );
    } finally {
      await Promise.all(sessions.map((ftp) => ftp.quit()));
      await server.stop();
    }
  });
});
