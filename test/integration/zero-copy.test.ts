/**
 * Transfers over both paths: sendfile(2)/splice(2) through the native addon, and the
 * JavaScript stream path (FERRY_ZERO_COPY=0). The same checks run over each, and the
 * transfer events say which path carried the bytes.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferEvent } from '../../src/observability/events.js';
import { zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import { DATA_MODES, FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256));
const RANDOM = randomBytes(3 * 1024 * 1024 + 17);

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

for (const path of ['sendfile', 'stream'] as const) {
  describe(`downloads over the ${path} path`, () => {
    let server: TestServer;
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);
    const previous = process.env.FERRY_ZERO_COPY;

    before(async () => {
      process.env.FERRY_ZERO_COPY = path === 'sendfile' ? '1' : '0';
      subscribe('ferry:transfer', onTransfer);
      server = await startServer();
      writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'random.bin'), RANDOM);
      writeFileSync(join(server.root, 'text.txt'), 'one\ntwo\n');
      writeFileSync(join(server.root, 'sparse.bin'), '');
      truncateSync(join(server.root, 'sparse.bin'), 2 ** 30);
    });

    after(async () => {
      unsubscribe('ferry:transfer', onTransfer);
      await server.stop();
      if (previous === undefined) delete process.env.FERRY_ZERO_COPY;
      else process.env.FERRY_ZERO_COPY = previous;
    });

    /** The path the last completed transfer took; only asserted where the addon is built. */
    function assertPath(expected: boolean): void {
      const last = seen[seen.length - 1];
      assert.ok(last, 'a transfer event was published');
      if (path === 'sendfile' && !zeroCopyAvailable()) return; // addon not built here: stream path everywhere
      assert.equal(last.zeroCopy, expected && path === 'sendfile');
    }

    test('byte-exact in every data mode', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      for (const mode of DATA_MODES) {
        assert.equal(sha256((await ftp.download('RETR all-bytes.bin', mode)).data), sha256(ALL_BYTES), mode);
        assertPath(true);
        const { data, final } = await ftp.download('RETR random.bin', mode);
        assert.equal(final.code, 226);
        assert.equal(sha256(data), sha256(RANDOM), mode);
        assertPath(true);
      }
      await ftp.quit();
    });

    test('REST resumes at the offset; TYPE A always takes the stream path', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      await ftp.expect('REST 1000001', 350);
      assert.equal(sha256((await ftp.download('RETR random.bin')).data), sha256(RANDOM.subarray(1000001)));
      assertPath(true);
      await ftp.expect('TYPE A', 200);
      assert.equal((await ftp.download('RETR text.txt')).data.toString(), 'one\r\ntwo\r\n');
      assertPath(false);
      await ftp.quit();
    });

    test('ABOR stops a large download (426 then 226) and the session goes on', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      const data = await ftp.prepareData('EPSV');
      await ftp.expect('RETR sparse.bin', 150);
      const socket = await data();
      socket.pause(); // a slow reader: the server's side fills up and waits
      await new Promise((resolve) => setTimeout(resolve, 100));
      const abor = await ftp.send('ABOR');
      const replies = [abor.code, (await ftp.read()).code];
      assert.ok(
        (replies[0] === 426 && replies[1] === 226) || (replies[0] === 226 && replies[1] === 225),
        `replies ${replies.join(', ')}`,
      );
      socket.destroy();
      assert.equal(sha256((await ftp.download('RETR all-bytes.bin')).data), sha256(ALL_BYTES));
      await ftp.quit();
    });

    test('STOR is byte-exact in every data mode; APPE and REST+STOR take the stream path', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      for (const mode of DATA_MODES) {
        const { final } = await ftp.upload(`STOR up-${mode}.bin`, RANDOM, mode);
        assert.equal(final.code, 226);
        assert.equal(sha256(readFileSync(join(server.root, `up-${mode}.bin`))), sha256(RANDOM), mode);
        assertPath(true);
      }
      await ftp.upload('APPE up-EPSV.bin', ALL_BYTES);
      assert.equal(sha256(readFileSync(join(server.root, 'up-EPSV.bin'))), sha256(Buffer.concat([RANDOM, ALL_BYTES])));
      assertPath(false);
      await ftp.expect('REST 10', 350);
      await ftp.upload('STOR up-PASV.bin', ALL_BYTES);
      assert.equal(sha256(readFileSync(join(server.root, 'up-PASV.bin'))), sha256(Buffer.concat([RANDOM.subarray(0, 10), ALL_BYTES])));
      assertPath(false);
      await ftp.quit();
    });

    test('ABOR during a STOR keeps the previous file and leaves no temporary file', async () => {
      writeFileSync(join(server.root, 'keep.bin'), ALL_BYTES);
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      const data = await ftp.prepareData('EPSV');
      await ftp.expect('STOR keep.bin', 150);
      const socket = await data();
      socket.write(RANDOM.subarray(0, 1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const abor = await ftp.send('ABOR');
      const replies = [abor.code, (await ftp.read()).code];
      assert.ok((replies[0] === 426 && replies[1] === 226) || (replies[0] === 226 && replies[1] === 225), `replies ${replies.join(', ')}`);
      socket.destroy();
      assert.equal(sha256(readFileSync(join(server.root, 'keep.bin'))), sha256(ALL_BYTES));
      assert.deepEqual(readdirSync(server.root).filter((name) => name.startsWith('.ferry-upload-')), []);
      await ftp.expect('NOOP', 200);
      await ftp.quit();
    });

    test('a client that closes the data connection early gets 426', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      const data = await ftp.prepareData('PASV');
      await ftp.expect('RETR sparse.bin', 150);
      const socket = await data();
      await new Promise((resolve) => socket.once('data', resolve));
      socket.destroy();
      assert.equal((await ftp.read()).code, 426);
      await ftp.expect('NOOP', 200);
      await ftp.quit();
    });
  });
}
