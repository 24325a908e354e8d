/**
 * Logs that explain: every failed login, refused command, failed or aborted transfer and
 * refused data connection is one log line with a stable code (FERRY_ERR_*) and the
 * reason in words, plus what an admin needs to act (user, addresses, path). Each test
 * triggers one failure over real sockets and finds exactly one line with its code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mergeConfig } from '../../src/config/load.js';
import { encodeHostPort } from '../../src/protocol/address.js';
import type { StorageBackend } from '../../src/storage/backend.js';
import { openLocalHome } from '../../src/storage/local.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { ServerLog, type LogEntry } from '../helpers/server-log.js';
import { PASSWORD, READONLY_USER, USER, withTestServer, type ServerOptions, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { FtpsClient, secureSession } from '../tls/fixtures.js';
import { connectSocket, login, passivePort } from './support.js';
import { overriding } from '../helpers/storage-override.js';

const BIG_SIZE = 64 * 1024 * 1024;

/** /big.bin in the server's root, BIG_SIZE bytes and sparse (no disk, no buffer): the tests need a download that outlasts them, not its bytes. */
function writeBigFile(server: TestServer): void {
  const path = join(server.root, 'big.bin');
  writeFileSync(path, '');
  truncateSync(path, BIG_SIZE);
}

function withLoggedServer(overrides: Record<string, unknown>, fn: (server: TestServer, log: ServerLog) => Promise<void>, options: ServerOptions = {}): Promise<void> {
  const log = new ServerLog();
  const config = mergeConfig({ log: { level: 'debug' }, defender: { failed_login_delay: 0 } }, overrides);
  return withTestServer(config, (server) => fn(server, log), { ...options, logTo: log.destination });
}

/** The lines carrying `code`, once at least one has been written (bounded wait). */
async function linesWithCode(log: ServerLog, code: string, timeoutMs = 10_000): Promise<LogEntry[]> {
  const found = () => log.entries.filter((entry) => entry.code === code);
  if (!(await waitFor(() => found().length > 0, timeoutMs))) throw new Error(`no line with ${code} in ${JSON.stringify(log.entries.map((e) => [e.msg, e.code]))}`);
  return found();
}

/** The one line with `code` (the session has ended, so none is still to come). */
async function oneLine(log: ServerLog, code: string): Promise<LogEntry> {
  const lines = await linesWithCode(log, code);
  assert.equal(lines.length, 1, `one line with ${code}: ${JSON.stringify(lines)}`);
  const [line] = lines;
  assert.equal(typeof line!.reason, 'string', `${code} has a reason in words`);
  return line!;
}

async function stalledDownload(ftp: FtpConnection, path: string, type: 'I' | 'A' = 'I') {
  await ftp.expect(`TYPE ${type}`, 200);
  const dataSocket = await ftp.prepareData('EPSV');
  await ftp.expect(`RETR ${path}`, 150);
  return dataSocket();
}

/** Logged in, with a download of a big file running: its data connection once its first bytes are in, paused. */
async function runningDownload(server: TestServer): Promise<{ ftp: FtpConnection; data: Socket }> {
  writeBigFile(server);
  const ftp = await login(server);
  const data = await stalledDownload(ftp, '/big.bin');
  await once(data, 'data');
  data.pause();
  return { ftp, data };
}

/** Storage whose uploads fail as a full disk does (ENOSPC on the first write). */
async function fullDisk(home: string): Promise<StorageBackend> {
  const local = await openLocalHome(home);
  return overriding(local, {
    write: async (path, options) => {
      const upload = await local.write(path, options);
      const stream = new Writable({
        write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
      });
      return { stream, commit: () => upload.commit(), abort: () => upload.abort() };
    },
  });
}

describe('log lines that explain a failure', () => {
  test('a bad password: FERRY_ERR_BAD_PASSWORD with the user, never the password', () =>
    withLoggedServer({}, async (server, log) => {
      const ftp = await FtpConnection.connect(server.host, server.port);
      await ftp.expect(`USER ${USER}`, 331);
      const refused = await ftp.expect('PASS not-the-password-4711', 530);
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_BAD_PASSWORD');
      assert.equal(line.msg, 'login failed');
      assert.equal(line.user, USER);
      assert.equal(line.reason, 'bad password');
      assert.equal(refused.text, 'Login incorrect.');
      assert.ok(!JSON.stringify(log.entries).includes('not-the-password-4711'), 'the password reached the log');
    }));

  test('an unknown user: FERRY_ERR_UNKNOWN_USER in the log, the same "Login incorrect." for the client', () =>
    withLoggedServer({}, async (server, log) => {
      const ftp = await FtpConnection.connect(server.host, server.port);
      await ftp.expect('USER mallory', 331);
      const refused = await ftp.expect(`PASS ${PASSWORD}`, 530);
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_UNKNOWN_USER');
      assert.equal(line.user, 'mallory');
      assert.equal(line.reason, 'unknown user');
      assert.equal(refused.text, 'Login incorrect.');
    }));

  test('a banned address: FERRY_ERR_BANNED with the user it tried', () =>
    withLoggedServer({ defender: { threshold: 2 } }, async (server, log) => {
      const ftp = await FtpConnection.connect(server.host, server.port);
      await ftp.expect(`USER ${USER}`, 331);
      await ftp.expect('PASS wrong-1', 530);
      await ftp.expect(`USER ${USER}`, 331);
      await ftp.expect('PASS wrong-2', 421);
      assert.ok(await ftp.closedByServer());
      const line = await oneLine(log, 'FERRY_ERR_BANNED');
      assert.equal(line.msg, 'login refused');
      assert.equal(line.user, USER);
      assert.equal(line.level, 40);
    }));

  test('a refused command: its code, the verb, the path and the user (a missing file; a read-only user writing)', () =>
    withLoggedServer({}, async (server, log) => {
      const ftp = await login(server);
      await ftp.expect('DELE missing.txt', 550);
      await ftp.quit();
      const missing = await oneLine(log, 'FERRY_ERR_NOT_FOUND');
      assert.deepEqual([missing.msg, missing.verb, missing.arg, missing.user], ['command refused', 'DELE', 'missing.txt', USER]);
      const readOnly = await login(server, READONLY_USER);
      await readOnly.expect('MKD new', 550);
      await readOnly.quit();
      const denied = await oneLine(log, 'FERRY_ERR_PERMISSION');
      assert.deepEqual([denied.msg, denied.verb, denied.arg, denied.user], ['command refused', 'MKD', 'new', READONLY_USER]);
    }));

  test('TLS required: FERRY_ERR_TLS_REQUIRED names the user', () =>
    withLoggedServer(
      {},
      async (server, log) => {
        const ftp = await FtpConnection.connect(server.host, server.port);
        await ftp.expect(`USER ${USER}`, 530);
        await ftp.quit();
        const line = await oneLine(log, 'FERRY_ERR_TLS_REQUIRED');
        assert.equal(line.msg, 'command refused');
        assert.equal(line.verb, 'USER');
        assert.equal(line.user, USER);
      },
      { tls: true },
    ));

  test('522, a data connection that did not resume the TLS session: FERRY_ERR_TLS_REUSE on the transfer line', () =>
    withLoggedServer(
      {},
      async (server, log) => {
        writeFileSync(join(server.root, 'f.bin'), 'bytes');
        const client: FtpsClient = await secureSession(server);
        const refused = await client.download('RETR f.bin', 'EPSV', 'fresh');
        assert.equal(refused.final.code, 522);
        await client.quit();
        const line = await oneLine(log, 'FERRY_ERR_TLS_REUSE');
        assert.equal(line.msg, 'transfer');
        assert.equal(line.outcome, 'failed');
        assert.equal(line.path, '/f.bin');
      },
      { tls: true },
    ));

  test('FTP bounce: FERRY_ERR_BOUNCE with the PORT address (another host, then a privileged port)', () =>
    withLoggedServer({}, async (server, log) => {
      const ftp = await login(server);
      await ftp.expect(`PORT ${encodeHostPort('127.0.0.2', 40000)}`, 504);
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_BOUNCE');
      assert.equal(line.target, '127.0.0.2:40000');
      assert.match(String(line.reason), /127\.0\.0\.2/);
      const mark = log.mark();
      const again = await login(server);
      await again.expect(`PORT ${encodeHostPort('127.0.0.1', 25)}`, 504);
      await again.quit();
      const privileged = log.entries.slice(mark).filter((entry) => entry.code === 'FERRY_ERR_BOUNCE');
      assert.equal(privileged.length, 1);
      assert.equal(privileged[0]!.target, '127.0.0.1:25');
    }));

  test('passive connection theft: FERRY_ERR_DATA_THEFT with both addresses', () =>
    withLoggedServer({}, async (server, log) => {
      const ftp = await login(server);
      const port = passivePort(await ftp.expect('EPSV', 229));
      const thief = await connectSocket(server.host, port, '127.0.0.2');
      await once(thief, 'close');
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_DATA_THEFT');
      assert.equal(line.address, '127.0.0.2');
      assert.equal(line.controlAddress, '127.0.0.1');
      assert.match(String(line.reason), /127\.0\.0\.2.*127\.0\.0\.1/);
    }));

  test('a passive connection that never comes: FERRY_ERR_DATA_TIMEOUT on the transfer line', () =>
    withLoggedServer({ timeouts: { data_connect: 1 } }, async (server, log) => {
      writeFileSync(join(server.root, 'a.txt'), 'a');
      const ftp = await login(server);
      const port = passivePort(await ftp.expect('EPSV', 229));
      await ftp.expect('RETR a.txt', 150);
      assert.equal((await ftp.read()).code, 425);
      await ftp.quit();
      const lines = (await linesWithCode(log, 'FERRY_ERR_DATA_TIMEOUT')).filter((entry) => entry.msg === 'transfer');
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.outcome, 'failed');
      assert.equal(lines[0]!.dataTarget, `127.0.0.1:${port}`);
      assert.match(String(lines[0]!.reason), /did not connect to port \d+ in time/);
    }));

  test('an aborted download: FERRY_ERR_ABORTED on the transfer line, saying ABOR', () =>
    withLoggedServer({}, async (server, log) => {
      const { ftp, data } = await runningDownload(server);
      assert.equal((await ftp.send('ABOR')).code, 426);
      assert.equal((await ftp.read()).code, 226);
      data.destroy();
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_ABORTED');
      assert.equal(line.msg, 'transfer');
      assert.equal(line.outcome, 'aborted');
      assert.match(String(line.reason), /ABOR from the client/);
    }));

  test('a download whose control connection goes away: FERRY_ERR_ABORTED, saying so', () =>
    withLoggedServer({}, async (server, log) => {
      const { ftp, data } = await runningDownload(server);
      ftp.close();
      const line = await oneLine(log, 'FERRY_ERR_ABORTED');
      data.destroy();
      assert.equal(line.outcome, 'aborted');
      assert.match(String(line.reason), /control connection closed/);
    }));

  test('a download whose data connection the client resets: FERRY_ERR_DATA_RESET', () =>
    withLoggedServer({}, async (server, log) => {
      const { ftp, data } = await runningDownload(server);
      data.resetAndDestroy();
      assert.equal((await ftp.read()).code, 426);
      await ftp.quit();
      const line = await oneLine(log, 'FERRY_ERR_DATA_RESET');
      assert.equal(line.msg, 'transfer');
      assert.equal(line.outcome, 'failed');
      assert.equal(line.path, '/big.bin');
      assert.match(String(line.reason), /reset by peer/);
    }));

  for (const type of ['I', 'A'] as const) {
    test(`a download the client stops reading (TYPE ${type}): FERRY_ERR_DATA_IDLE after timeouts.data_idle`, () =>
      withLoggedServer({ timeouts: { data_idle: 1 } }, async (server, log) => {
        writeBigFile(server);
        const ftp = await login(server);
        const data = await stalledDownload(ftp, '/big.bin', type);
        data.pause();
        assert.equal((await ftp.read(30_000)).code, 426);
        data.destroy();
        await ftp.quit();
        const line = await oneLine(log, 'FERRY_ERR_DATA_IDLE');
        assert.equal(line.msg, 'transfer');
        assert.equal(line.outcome, 'failed');
      }));
  }

  test('a full disk: FERRY_ERR_NO_SPACE (452) on the upload transfer line', () =>
    withLoggedServer(
      {},
      async (server, log) => {
        const ftp = await login(server);
        const upload = await ftp.upload('STOR full.bin', Buffer.alloc(64 * 1024, 1));
        assert.equal(upload.final.code, 452);
        await ftp.quit();
        const line = await oneLine(log, 'FERRY_ERR_NO_SPACE');
        assert.equal(line.msg, 'transfer');
        assert.equal(line.outcome, 'failed');
        assert.equal(line.path, '/full.bin');
      },
      { openStorage: (user) => fullDisk(user.home) },
    ));

  test('SITE CHMOD and RNFR/RNTO log at info what they changed', () =>
    withLoggedServer({}, async (server, log) => {
      writeFileSync(join(server.root, 'a.txt'), 'a');
      const ftp = await login(server);
      await ftp.expect('SITE CHMOD 600 a.txt', 200);
      await ftp.expect('RNFR a.txt', 350);
      await ftp.expect('RNTO b.txt', 250);
      await ftp.quit();
      const operations = log.entries.filter((entry) => entry.msg === 'file operation');
      assert.deepEqual(
        operations.map(({ level, op, path, from, mode }) => ({ level, op, path, from, mode })),
        [
          { level: 30, op: 'chmod', path: '/a.txt', from: undefined, mode: '600' },
          { level: 30, op: 'rename', path: '/b.txt', from: '/a.txt', mode: undefined },
        ],
      );
    }));
});
