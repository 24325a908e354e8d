/**
 * IPv6 control connections: EPSV and EPRT with |2|, PASV refused (it cannot carry an
 * IPv6 address), and a dual-stack listener serving IPv4 clients through mapped addresses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_MODES, FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { encodeHostPort } from '../../src/protocol/address.js';
import { sha256 } from '../helpers/data.js';
import { allByteValues, lines, parseList } from './support.js';

describe('IPv6 server on ::1', () => {
  let server: TestServer;
  let ftp: FtpConnection;
  const payload = allByteValues(16);

  before(async () => {
    server = await startServer({ host: '::1' });
    writeFileSync(join(server.root, 'six.bin'), payload);
    ftp = await FtpConnection.login('::1', server.port, USER, PASSWORD);
    await ftp.expect('TYPE I', 200);
  });

  after(async () => {
    await ftp.quit();
    await server.stop();
  });

  test('the control connection is IPv6', () => {
    assert.equal(server.host, '::1');
    assert.equal(ftp.socket.remoteAddress, '::1');
  });

  for (const mode of ['EPSV', 'EPRT'] as const) {
    test(`${mode}: RETR, STOR, LIST and NLST work`, async () => {
      const retr = await ftp.download('RETR six.bin', mode);
      assert.equal(retr.final.code, 226);
      assert.equal(sha256(retr.data), sha256(payload));
      const stor = await ftp.upload(`STOR up-${mode}.bin`, payload, mode);
      assert.equal(stor.final.code, 226);
      assert.equal(sha256(readFileSync(join(server.root, `up-${mode}.bin`))), sha256(payload));
      const list = parseList((await ftp.download('LIST', mode)).data);
      assert.ok(list.some((e) => e.name === 'six.bin' && e.size === payload.length));
      assert.ok(lines((await ftp.download('NLST', mode)).data).includes(`up-${mode}.bin`));
    });
  }

  test('EPRT |2|::1|port| is what the client sends, and is accepted', async () => {
    const reply = await ftp.send('EPRT |2|::1|40000|');
    assert.equal(reply.code, 200, reply.lines.join(' | '));
    await ftp.expect('ABOR', 225);
  });

  test('PASV is refused with a reply that points to EPSV', async () => {
    const reply = await ftp.send('PASV');
    assert.ok(reply.code >= 400 && reply.code < 600, reply.lines.join(' | '));
    assert.match(reply.text, /EPSV/);
    await ftp.expect('NOOP', 200);
  });

  test('EPSV 1 is 522 naming family 2; EPSV 2 works', async () => {
    const one = await ftp.expect('EPSV 1', 522);
    assert.match(one.text, /\(2\)/);
    await ftp.expect('EPSV 2', 229);
    await ftp.expect('ABOR', 225);
  });

  test('PORT and EPRT to an IPv4 address are refused (not the client address)', async () => {
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 40000)}`, 504);
    await ftp.expect('EPRT |1|127.0.0.1|40000|', 504);
    await ftp.expect('EPRT |2|::2|40000|', 504);
  });
});

describe('dual-stack server on ::', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ host: '::' });
    writeFileSync(join(server.root, 'dual.txt'), 'dual stack');
  });
  after(async () => {
    await server.stop();
  });

  test('an IPv4 client can use all four data modes', async () => {
    const ftp = await FtpConnection.login('127.0.0.1', server.port, USER, PASSWORD);
    await ftp.expect('TYPE I', 200);
    for (const mode of DATA_MODES) {
      const { data, final } = await ftp.download('RETR dual.txt', mode);
      assert.equal(data.toString(), 'dual stack', mode);
      assert.equal(final.code, 226, mode);
      const pasv = await ftp.send('PASV');
      assert.equal(pasv.code, 227);
      assert.match(pasv.text, /\(127,0,0,1,\d+,\d+\)/);
      await ftp.expect('ABOR', 225);
    }
    await ftp.quit();
  });

  test('an IPv6 client can use EPSV and EPRT', async () => {
    const ftp = await FtpConnection.login('::1', server.port, USER, PASSWORD);
    await ftp.expect('TYPE I', 200);
    for (const mode of ['EPSV', 'EPRT'] as const) {
      const { data, final } = await ftp.download('RETR dual.txt', mode);
      assert.equal(data.toString(), 'dual stack', mode);
      assert.equal(final.code, 226, mode);
    }
    await ftp.quit();
  });
});
