/**
 * The transfer log ([log] transfers), in both formats, from a real server and client:
 * an upload, a download, a TYPE A download, an aborted and a failed download and an
 * anonymous download each write exactly one line with the right fields (xferlog lines
 * read by a strict parser); listings write none; reopenLogs() after a rename starts a new
 * file; a path that cannot be opened stops the start with a config error naming the key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import type { TransferLogFormat } from '../../src/observability/xferlog-format.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, USER, type TestServer } from '../helpers/server.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { waitFor } from '../helpers/timing.js';
import { parseXferlog } from '../helpers/xferlog.js';
import { login, readAll } from './support.js';

const scratch = scratchDirForFile('ferry-transfer-log-');

/** Large enough that a client that does not read stalls the download. */
const BIG_SIZE = 24 * 1024 * 1024;
const TEXT = 'one\ntwo\nthree\n';
const UPLOAD_NAME = 'up load résumé 日本.txt';

/** One line of either format, as the fields the tests compare. */
interface Entry {
  path: string;
  bytes: number;
  direction: 'download' | 'upload';
  mode: 'ascii' | 'binary';
  user: string;
  anonymous: boolean;
  /** xferlog only knows complete or not. */
  complete: boolean;
  remoteAddress: string;
  json?: Record<string, unknown>;
}

function readEntry(format: TransferLogFormat, line: string): Entry {
  if (format === 'xferlog') {
    const fields = parseXferlog(line);
    assert.equal(fields.specialAction, '_');
    assert.equal(`${fields.service} ${fields.authMethod} ${fields.authUser}`, 'ftp 0 *');
    return {
      path: fields.filename,
      bytes: fields.bytes,
      direction: fields.direction === 'i' ? 'upload' : 'download',
      mode: fields.transferType === 'a' ? 'ascii' : 'binary',
      user: fields.username,
      anonymous: fields.accessMode === 'a',
      complete: fields.status === 'c',
      remoteAddress: fields.remoteHost,
    };
  }
  const json = JSON.parse(line) as Record<string, unknown>;
  assert.ok(!Number.isNaN(Date.parse(String(json.time))), `time ${json.time}`);
  assert.equal(typeof json.durationMs, 'number');
  assert.match(String(json.session), /^[0-9a-f]{8}-\d+$/);
  return {
    path: json.path as string,
    bytes: json.bytes as number,
    direction: json.direction as Entry['direction'],
    mode: json.mode as Entry['mode'],
    user: json.user as string,
    anonymous: json.anonymous as boolean,
    complete: json.status === 'complete',
    remoteAddress: json.remoteAddress as string,
    json,
  };
}

function linesOf(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : [];
}

/** The log's xferlog spelling of a name (spaces as "_"); JSON keeps it as it is. */
function logged(format: TransferLogFormat, path: string): string {
  return format === 'xferlog' ? path.replaceAll(' ', '_') : path;
}

/** A RETR whose data the client does not read, so the server's sending stalls. */
async function stalledDownload(ftp: FtpConnection, path: string) {
  await ftp.expect('TYPE I', 200);
  const dataSocket = await ftp.prepareData('EPSV');
  await ftp.expect(`RETR ${path}`, 150);
  return dataSocket();
}

for (const format of ['xferlog', 'json'] as const) {
  describe(`transfer log, ${format} format`, () => {
    let server: TestServer;
    let logPath: string;

    before(async () => {
      logPath = join(scratch(), `${format}.log`);
      server = await startServer({ anonymous: { enabled: true }, log: { transfers: logPath, transfers_format: format } });
      writeFileSync(join(server.root, 'big.bin'), Buffer.alloc(BIG_SIZE, 0x5a));
      writeFileSync(join(server.root, 'text.txt'), TEXT);
      writeFileSync(join(server.anonymousRoot, 'pub.txt'), 'public file');
    });

    after(async () => {
      await server.stop();
    });

    /**
     * Runs `action`, waits for the log to grow, and returns the one line it wrote. A
     * stray second line would be counted here or, written a batch later, by the next
     * test, which counts from where this one ended.
     */
    async function oneEntry(action: () => Promise<void>): Promise<Entry> {
      const before = linesOf(logPath).length;
      await action();
      assert.ok(await waitFor(() => linesOf(logPath).length > before), 'no transfer log line');
      const lines = linesOf(logPath).slice(before);
      assert.equal(lines.length, 1, lines.join('\n'));
      return readEntry(format, lines[0]!);
    }

    test('an upload: direction "upload", the bytes received, the path as the user sees it (spaces and UTF-8)', async () => {
      const data = Buffer.alloc(3000, 7);
      const entry = await oneEntry(async () => {
        const ftp = await login(server);
        await ftp.expect('TYPE I', 200);
        await ftp.expect('MKD /in box', 257);
        assert.equal((await ftp.upload(`STOR /in box/${UPLOAD_NAME}`, data)).final.code, 226);
        await ftp.quit();
      });
      assert.equal(readFileSync(join(server.root, 'in box', UPLOAD_NAME)).length, 3000);
      assert.deepEqual(
        { ...entry, json: undefined },
        { path: logged(format, `/in box/${UPLOAD_NAME}`), bytes: 3000, direction: 'upload', mode: 'binary', user: USER, anonymous: false, complete: true, remoteAddress: '127.0.0.1', json: undefined },
      );
    });

    test('a binary download', async () => {
      const entry = await oneEntry(async () => {
        const ftp = await login(server);
        await ftp.expect('TYPE I', 200);
        await ftp.expect('CWD /in box', 250);
        const { data, final } = await ftp.download(`RETR ${UPLOAD_NAME}`);
        assert.equal(final.code, 226);
        assert.equal(data.length, 3000);
        await ftp.quit();
      });
      assert.equal(entry.path, logged(format, `/in box/${UPLOAD_NAME}`), 'the absolute path, wherever the client was');
      assert.equal(entry.direction, 'download');
      assert.equal(entry.mode, 'binary');
      assert.equal(entry.bytes, 3000);
      assert.equal(entry.complete, true);
    });

    test('a TYPE A download is mode ascii; its size is the file\'s', async () => {
      const entry = await oneEntry(async () => {
        const ftp = await login(server);
        await ftp.expect('TYPE A', 200);
        const { data, final } = await ftp.download('RETR /text.txt');
        assert.equal(final.code, 226);
        assert.equal(data.toString(), TEXT.replaceAll('\n', '\r\n'));
        await ftp.quit();
      });
      assert.equal(entry.mode, 'ascii');
      assert.equal(entry.bytes, TEXT.length);
      assert.equal(entry.path, '/text.txt');
    });

    test('a download cut short by ABOR is incomplete ("aborted")', async () => {
      const entry = await oneEntry(async () => {
        const ftp = await login(server);
        const data = await stalledDownload(ftp, '/big.bin');
        const received = readAll(data);
        // Abort only once bytes are flowing: on a slow machine the first chunk may not have left yet.
        await once(data, 'data');
        data.pause();
        assert.equal((await ftp.send('ABOR')).code, 426);
        assert.equal((await ftp.read()).code, 226);
        data.resume();
        assert.ok((await received).length < BIG_SIZE);
        await ftp.quit();
      });
      assert.equal(entry.complete, false);
      // What left the server before ABOR: some, not all (0 would mean the count was lost).
      assert.ok(entry.bytes > 0 && entry.bytes < BIG_SIZE, `${entry.bytes} bytes`);
      if (entry.json) {
        assert.equal(entry.json.status, 'aborted');
        assert.equal('code' in entry.json, false);
      }
    });

    test('a download whose data connection is reset is incomplete ("failed", with the code and reason)', async () => {
      const entry = await oneEntry(async () => {
        const ftp = await login(server);
        const data = await stalledDownload(ftp, '/big.bin');
        await once(data, 'data');
        data.resetAndDestroy();
        assert.equal((await ftp.read()).code, 426);
        await ftp.quit();
      });
      assert.equal(entry.complete, false);
      assert.ok(entry.bytes > 0 && entry.bytes < BIG_SIZE, `the bytes sent before the reset: ${entry.bytes}`);
      if (entry.json) {
        assert.equal(entry.json.status, 'failed');
        assert.equal(entry.json.code, 'FERRY_ERR_DATA_RESET');
        assert.equal(typeof entry.json.reason, 'string');
      }
    });

    test('an anonymous download: access mode anonymous, the login name and never the password', async () => {
      const entry = await oneEntry(async () => {
        const ftp = await FtpConnection.login(server.host, server.port, 'anonymous', 'secret-looking@example.com');
        assert.equal((await ftp.download('RETR /pub.txt')).data.toString(), 'public file');
        await ftp.quit();
      });
      assert.equal(entry.anonymous, true);
      assert.equal(entry.user, 'anonymous');
      assert.equal(entry.path, '/pub.txt');
      assert.ok(!readFileSync(logPath, 'utf8').includes('secret-looking'));
    });

    test('listings (LIST, NLST, MLSD) write no line', async () => {
      const before = linesOf(logPath).length;
      const ftp = await login(server);
      for (const verb of ['LIST', 'NLST', 'MLSD']) assert.equal((await ftp.download(verb)).final.code, 226);
      // A file transfer after them: once its line is there, a listing's line would be too.
      assert.equal((await ftp.download('RETR /text.txt')).final.code, 226);
      await ftp.quit();
      assert.ok(await waitFor(() => linesOf(logPath).length > before));
      const lines = linesOf(logPath).slice(before);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.equal(readEntry(format, lines[0]!).path, '/text.txt');
    });

    test('after a rename, reopenLogs() (SIGHUP) sends the next line to a new file', async () => {
      const rotated = `${logPath}.1`;
      renameSync(logPath, rotated);
      const kept = linesOf(rotated).length;
      await server.server.reopenLogs();
      assert.ok(existsSync(logPath), 'the new file is created at once');
      const ftp = await login(server);
      assert.equal((await ftp.download('RETR /text.txt')).final.code, 226);
      await ftp.quit();
      assert.ok(await waitFor(() => linesOf(logPath).length === 1), 'no line in the new file');
      assert.equal(linesOf(rotated).length, kept, 'the rotated file got nothing more');
      assert.equal(readEntry(format, linesOf(logPath)[0]!).path, '/text.txt');
    });
  });
}

describe('transfer log set-up', () => {
  test('a path that cannot be opened stops the start with a config error naming log.transfers', async () => {
    const notADirectory = join(scratch(), 'plain-file');
    writeFileSync(notADirectory, '');
    const path = join(notADirectory, 'xferlog');
    await assert.rejects(
      startServer({ log: { transfers: path } }),
      (error: unknown) => error instanceof ConfigError && error.key === 'log.transfers' && error.message.includes(path) && /ENOTDIR/.test(error.message),
    );
  });

  test('an upload cut short by the server\'s shutdown still writes its line', async () => {
    const path = join(scratch(), 'shutdown.log');
    const server = await startServer({ log: { transfers: path } });
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect('STOR /cut.bin', 150);
    const data = await dataSocket();
    // Sent, never ended: the upload is still running when the server stops.
    data.write(Buffer.alloc(4096, 1));
    await server.stop();
    data.destroy();
    ftp.close();
    const lines = linesOf(path);
    assert.equal(lines.length, 1, lines.join('\n'));
    const fields = parseXferlog(lines[0]!);
    assert.equal(fields.filename, '/cut.bin');
    assert.equal(fields.direction, 'i');
    assert.equal(fields.status, 'i', 'incomplete');
  });

  test('two servers in one process log only their own transfers', async () => {
    const first = join(scratch(), 'first.log');
    const second = join(scratch(), 'second.log');
    const a = await startServer({ log: { transfers: first } });
    const b = await startServer({ log: { transfers: second } });
    try {
      writeFileSync(join(a.root, 'a.txt'), 'a');
      const ftp = await login(a);
      assert.equal((await ftp.download('RETR /a.txt')).final.code, 226);
      await ftp.quit();
      assert.ok(await waitFor(() => linesOf(first).length === 1));
      writeFileSync(join(b.root, 'b.txt'), 'b');
      const other = await login(b);
      assert.equal((await other.download('RETR /b.txt')).final.code, 226);
      await other.quit();
      assert.ok(await waitFor(() => linesOf(second).length === 1));
      assert.deepEqual(
        [...linesOf(first), ...linesOf(second)].map((line) => parseXferlog(line).filename),
        ['/a.txt', '/b.txt'],
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
