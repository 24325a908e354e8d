/**
 * Per-user limits over real sockets: quota_bytes and quota_files (552, with the count
 * kept right through overwrite, APPE, REST+STOR, DELE and RNTO, files already on disk,
 * and two sessions uploading at once), max_sessions (421 after PASS), and upload/download
 * rates measured (4 MB at 1 MB/s takes about 4 s, also where sendfile would carry it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { randomData, sha256 } from '../helpers/data.js';
import { PASSWORD, withTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { ServerLog } from '../helpers/server-log.js';
import { uploadTempFiles } from './support.js';

const KB = 1000;

/** STOR/APPE `data` (after an optional REST); resolves with the final reply code, or the refusal in place of 150. */
async function store(ftp: FtpConnection, command: string, data: Buffer, restAt?: number): Promise<number> {
  if (restAt !== undefined) await ftp.expect(`REST ${restAt}`, 350);
  const connect = await ftp.prepareData('EPSV');
  const opening = await ftp.send(command);
  if (opening.code !== 150) return opening.code;
  const socket = await connect();
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.end(data);
  if (!socket.destroyed) await once(socket, 'close');
  return (await ftp.read()).code;
}

/** Logged in, in binary mode (TYPE A would change the byte counts). */
async function loginAs(server: TestServer, user: string): Promise<FtpConnection> {
  const ftp = await FtpConnection.login(server.host, server.port, user, PASSWORD);
  await ftp.expect('TYPE I', 200);
  return ftp;
}

const sizeOn = (server: TestServer, name: string) => (existsSync(join(server.root, name)) ? statSync(join(server.root, name)).size : null);

describe('quota_bytes', () => {
  test('552 past the quota, nothing stored; overwrite, APPE, REST+STOR, DELE and RNTO keep the count right', async () => {
    const log = new ServerLog();
    await withTestServer(
      { log: { level: 'warn' } },
      async (server) => {
        const ftp = await loginAs(server, 'carol');
        try {
          assert.equal(await store(ftp, 'STOR a.bin', randomData(60 * KB)), 226);
          // 60 + 60 > 100: refused part way, and the file never appears.
          assert.equal(await store(ftp, 'STOR b.bin', randomData(60 * KB)), 552);
          assert.equal(sizeOn(server, 'b.bin'), null);
          assert.ok(await waitFor(() => log.entries.some((entry) => entry.code === 'FERRY_ERR_QUOTA')), 'the refusal is logged with its code');
          // An overwrite replaces its 60 kB: 90 kB fits.
          assert.equal(await store(ftp, 'STOR a.bin', randomData(90 * KB)), 226);
          // APPE adds to the 90: 20 more is too much, and the file keeps its 90.
          const before = sha256(readFileSync(join(server.root, 'a.bin')));
          assert.equal(await store(ftp, 'APPE a.bin', randomData(20 * KB)), 552);
          assert.equal(sha256(readFileSync(join(server.root, 'a.bin'))), before);
          assert.equal(await store(ftp, 'APPE a.bin', randomData(10 * KB)), 226);
          assert.equal(sizeOn(server, 'a.bin'), 100 * KB);
          // Full: a new file is refused before any data connection.
          assert.equal((await ftp.send('STOR c.bin')).code, 552);
          // REST+STOR at 50 kB: the file ends at 50 + 30 = 80 kB.
          assert.equal(await store(ftp, 'STOR a.bin', randomData(30 * KB), 50 * KB), 226);
          assert.equal(sizeOn(server, 'a.bin'), 80 * KB);
          // From 80 kB, 30 more would make 110: refused, the file back at 80.
          assert.equal(await store(ftp, 'STOR a.bin', randomData(30 * KB), 80 * KB), 552);
          assert.equal(sizeOn(server, 'a.bin'), 80 * KB);
          // DELE frees its bytes: 100 kB fits again.
          await ftp.expect('DELE a.bin', 250);
          assert.equal(await store(ftp, 'STOR d.bin', randomData(50 * KB)), 226);
          assert.equal(await store(ftp, 'STOR e.bin', randomData(40 * KB)), 226);
          // RNTO over e.bin replaces its 40 kB: 50 kB are used, so 50 more fit.
          await ftp.expect('RNFR d.bin', 350);
          await ftp.expect('RNTO e.bin', 250);
          assert.equal(await store(ftp, 'STOR f.bin', randomData(50 * KB)), 226);
          assert.equal(await store(ftp, 'STOR g.bin', randomData(1 * KB)), 552);
        } finally {
          ftp.close();
        }
      },
      { users: { carol: { limits: { quotaBytes: 100 * KB } } }, logTo: log.destination },
    );
  });

  test('files already in the home count; the limit comes from [user_defaults] when the user has none', async () => {
    await withTestServer({ user_defaults: { quota_bytes: 100 * KB } }, async (server) => {
      writeFileSync(join(server.root, 'old.bin'), randomData(90 * KB));
      const ftp = await loginAs(server, 'alice');
      try {
        assert.equal(await store(ftp, 'STOR new.bin', randomData(20 * KB)), 552);
        assert.equal(await store(ftp, 'STOR new.bin', randomData(10 * KB)), 226);
      } finally {
        ftp.close();
      }
    });
  });

  test("two sessions uploading at once share the quota: a running upload's bytes are reserved", async () => {
    await withTestServer(
      {},
      async (server) => {
        const first = await loginAs(server, 'carol');
        const second = await loginAs(server, 'carol');
        try {
          const connect = await first.prepareData('EPSV');
          await first.expect('STOR slow.bin', 150);
          const slow: Socket = await connect();
          slow.on('error', () => undefined);
          slow.write(randomData(60 * KB));
          // Once the server holds the first 60 kB (its temporary file has them), 60 more cannot fit.
          assert.ok(await waitFor(() => tempBytes(server) >= 60 * KB), 'the first upload arrived');
          assert.equal(await store(second, 'STOR fast.bin', randomData(60 * KB)), 552);
          slow.end();
          assert.equal((await first.read()).code, 226);
          assert.equal(sizeOn(server, 'slow.bin'), 60 * KB);
        } finally {
          first.close();
          second.close();
        }
      },
      { users: { carol: { limits: { quotaBytes: 100 * KB } } } },
    );
  });
});

/** Bytes in the uploads' temporary files under the root (what the server has received so far). */
function tempBytes(server: TestServer): number {
  return uploadTempFiles(server.root).reduce((sum, name) => sum + statSync(join(server.root, name)).size, 0);
}

describe('quota_files', () => {
  test('a new file past the count is 552 before 150; overwriting is fine; DELE frees a slot', async () => {
    await withTestServer(
      {},
      async (server) => {
        const ftp = await loginAs(server, 'carol');
        try {
          assert.equal(await store(ftp, 'STOR one', Buffer.from('1')), 226);
          assert.equal(await store(ftp, 'STOR two', Buffer.from('2')), 226);
          assert.equal(await store(ftp, 'STOR three', Buffer.from('3')), 552);
          assert.equal(sizeOn(server, 'three'), null);
          assert.equal(await store(ftp, 'STOR two', Buffer.from('22')), 226);
          await ftp.expect('DELE one', 250);
          assert.equal(await store(ftp, 'STOR three', Buffer.from('3')), 226);
        } finally {
          ftp.close();
        }
      },
      { users: { carol: { limits: { quotaFiles: 2 } } } },
    );
  });
});

describe('max_sessions', () => {
  test('one session more than max_sessions is 421 after the password, and closed; a slot frees at logout', async () => {
    const log = new ServerLog();
    await withTestServer({ user_defaults: { max_sessions: 2 }, log: { level: 'warn' } }, async (server) => {
      const one = await loginAs(server, 'alice');
      const two = await loginAs(server, 'alice');
      const three = await FtpConnection.connect(server.host, server.port);
      try {
        await three.expect('USER alice', 331);
        const refused = await three.send(`PASS ${PASSWORD}`);
        assert.equal(refused.code, 421, refused.lines.join(' | '));
        assert.ok(await three.closedByServer());
        assert.ok(log.entries.some((entry) => entry.code === 'FERRY_ERR_TOO_MANY_SESSIONS' && entry.user === 'alice'), 'the refusal is logged with its code');
        // Another user is not counted against alice.
        (await loginAs(server, 'bob')).close();
        await one.quit();
        let again: FtpConnection | null = null;
        assert.ok(
          await waitFor(async () => {
            again = await loginAs(server, 'alice').catch(() => null);
            return again !== null;
          }),
          'a login after one logged out',
        );
        (again as FtpConnection | null)?.close();
      } finally {
        one.close();
        two.close();
        three.close();
      }
    }, { logTo: log.destination });
  });
});

describe('rate limits', () => {
  const MB = 1024 * 1024;

  /** Seconds `user` takes to download 4 MB (byte-exact) from a server where only carol has a download rate (1 MB/s unless given). */
  async function timedDownload(user: string, carolRate = MB): Promise<number> {
    let seconds = 0;
    await withTestServer(
      {},
      async (server) => {
        const data = randomData(4 * MB);
        writeFileSync(join(server.root, 'big.bin'), data);
        const ftp = await loginAs(server, user);
        try {
          const started = performance.now();
          const result = await ftp.download('RETR big.bin');
          seconds = (performance.now() - started) / 1000;
          assert.equal(result.final.code, 226);
          assert.equal(sha256(result.data), sha256(data));
        } finally {
          ftp.close();
        }
      },
      { users: { carol: { limits: { downloadRate: carolRate } } } },
    );
    return seconds;
  }

  test('download_rate: 4 MB at 1 MB/s takes about 4 s (binary, where sendfile would carry it), byte-exact', async () => {
    const seconds = await timedDownload('carol');
    assert.ok(seconds > 3.4 && seconds < 12, `4 MB at 1 MB/s took ${seconds.toFixed(2)} s`);
  });

  test("upload_rate is shared by the user's sessions: two 2 MB uploads at once at 1 MB/s take about 4 s", async () => {
    await withTestServer({ user_defaults: { upload_rate: MB } }, async (server) => {
      const sessions = [await loginAs(server, 'alice'), await loginAs(server, 'alice')];
      try {
        const files = [randomData(2 * MB), randomData(2 * MB)];
        const started = performance.now();
        const codes = await Promise.all(sessions.map((ftp, i) => store(ftp, `STOR up${i}.bin`, files[i]!)));
        const seconds = (performance.now() - started) / 1000;
        assert.deepEqual(codes, [226, 226]);
        for (const [i, file] of files.entries()) assert.equal(sha256(readFileSync(join(server.root, `up${i}.bin`))), sha256(file));
        assert.ok(seconds > 3.4 && seconds < 12, `2 × 2 MB at 1 MB/s shared took ${seconds.toFixed(2)} s`);
      } finally {
        for (const ftp of sessions) ftp.close();
      }
    });
  });

  test("a user without a limit is not slowed by another user's", async () => {
    // Carol's rate is low enough that a leak of it would take 16 s: the bound has room for a loaded machine.
    const seconds = await timedDownload('alice', 256 * 1024);
    assert.ok(seconds < 8, `an unlimited 4 MB download took ${seconds.toFixed(2)} s`);
  });
});
