/**
 * What the server says when a data connection cannot be had: active mode connects back
 * before 150 and answers a failed connect with a 425 naming the target and the reason;
 * the transfer's log line carries the same reason; a passive port nobody connects to is
 * logged as a warning naming the port, the advertised address and passive.ports.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeConfig } from '../../src/config/load.js';
import { encodeHostPort } from '../../src/protocol/address.js';
import { closedPort } from '../helpers/ports.js';
import { ServerLog } from '../helpers/server-log.js';
import { withTestServer, type TestServer } from '../helpers/server.js';
import { findFreePortRange, login, passivePort } from './support.js';

function withLoggedServer(overrides: Record<string, unknown>, fn: (server: TestServer, log: ServerLog) => Promise<void>): Promise<void> {
  const log = new ServerLog();
  return withTestServer(mergeConfig({ log: { level: 'info' } }, overrides), (server) => fn(server, log), { logTo: log.destination });
}

/** Waits (bounded) until the log has an entry matching `predicate`. */
async function logEntry(log: ServerLog, predicate: (entry: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = log.entries.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log entry in ${JSON.stringify(log.entries.map((e) => e.msg))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('data connection diagnostics', () => {
  test('a refused active connect-back: 425 without 150, and the transfer line says where and why', () =>
    withLoggedServer({}, async (server, log) => {
      writeFileSync(join(server.root, 'a.txt'), 'a');
      const port = await closedPort();
      const ftp = await login(server);
      await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', port)}`, 200);
      const reply = await ftp.expect('RETR a.txt', 425);
      assert.equal(reply.text, `Can't open data connection to 127.0.0.1:${port}: connection refused.`);
      // The next reply belongs to the next command: no 150 or second reply was queued.
      await ftp.expect('NOOP', 200);
      const line = await logEntry(log, (e) => e.msg === 'transfer' && e.verb === 'RETR');
      assert.equal(line.outcome, 'failed');
      assert.equal(line.code, 'FERRY_ERR_DATA_CONNECT');
      assert.equal(line.dataMode, 'active');
      assert.equal(line.dataTarget, `127.0.0.1:${port}`);
      assert.equal(line.dataFailure, 'refused');
      assert.match(String(line.reason), /127\.0\.0\.1:\d+: connection refused/);
      await ftp.quit();
    }));

  test('a working active connect-back still answers 150 then 226', () =>
    withLoggedServer({}, async (server, log) => {
      writeFileSync(join(server.root, 'a.txt'), 'active bytes');
      const ftp = await login(server);
      const { data } = await ftp.download('RETR a.txt', 'PORT');
      assert.equal(data.toString(), 'active bytes');
      const line = await logEntry(log, (e) => e.msg === 'transfer' && e.verb === 'RETR');
      assert.equal(line.outcome, 'complete');
      assert.equal(line.reason, undefined);
      await ftp.quit();
    }));

  test('a passive port nobody connects to: the waiting transfer gets 425 naming the port, and a warning names passive.ports', async () => {
    const range = await findFreePortRange(4);
    await withLoggedServer({ timeouts: { data_connect: 1 }, passive: { ports: range.spec } }, async (server, log) => {
      writeFileSync(join(server.root, 'a.txt'), 'a');
      const ftp = await login(server);
      const port = passivePort(await ftp.expect('PASV', 227));
      await ftp.expect('RETR a.txt', 150);
      const late = await ftp.read();
      assert.equal(late.code, 425);
      assert.equal(late.text, `Can't open data connection: the client did not connect to port ${port} in time.`);
      const warning = await logEntry(log, (e) => e.msg === 'passive data connection never arrived');
      assert.equal(warning.level, 40);
      assert.equal(warning.port, port);
      assert.equal(warning.advertised, '127.0.0.1');
      assert.equal(warning.passivePorts, range.spec);
      assert.equal(warning.why, 'transfer-waited');
      const line = await logEntry(log, (e) => e.msg === 'transfer');
      assert.equal(line.dataMode, 'passive');
      assert.equal(line.dataFailure, 'timed-out');
      assert.equal(line.dataTarget, `127.0.0.1:${port}`);
      await ftp.quit();
    });
  });

  test('a passive port that expires unused is logged once; one replaced at once by a new PASV is not', () =>
    withLoggedServer({ timeouts: { data_connect: 1 } }, async (server, log) => {
      const ftp = await login(server);
      const first = passivePort(await ftp.expect('EPSV', 229));
      const second = passivePort(await ftp.expect('EPSV', 229));
      const warning = await logEntry(log, (e) => e.msg === 'passive data connection never arrived');
      assert.equal(warning.port, second);
      assert.equal(warning.why, 'expired');
      assert.equal(log.entries.filter((e) => e.msg === 'passive data connection never arrived' && e.port === first).length, 0);
      await ftp.quit();
    }));
});
