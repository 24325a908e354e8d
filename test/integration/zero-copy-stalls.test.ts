/**
 * Stalled zero-copy transfers must not starve the rest of the server. Each native
 * transfer runs on its own thread (never libuv's 4-thread pool, which every fs call and
 * scrypt check shares), at most limits.zero_copy_threads of them; past that, transfers
 * take the stream path, which holds no thread while the peer is idle.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { truncateSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { TransferEvent } from '../../src/observability/events.js';
import { zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { waitFor, withTimeout } from '../helpers/timing.js';
import { login } from './support.js';

/** Far more than the socket buffers of a peer that never reads can take. */
const BIG_BYTES = 256 * 1024 * 1024;
const SMALL = Buffer.from('a small file\n');
const STALLED_RETR = 160;
const STALLED_STOR = 40;

interface Stalled {
  ftp: FtpConnection;
  data: Socket;
}

async function serverWithFiles(overrides: Record<string, unknown>): Promise<TestServer> {
  // Anonymous logins cost no scrypt, which keeps 160 of the 200 logins quick.
  const server = await startServer({ anonymous: { enabled: true }, limits: { connection_rate: 0 }, ...overrides });
  for (const root of [server.root, server.anonymousRoot]) {
    writeFileSync(join(root, 'big.bin'), '');
    truncateSync(join(root, 'big.bin'), BIG_BYTES); // sparse: costs no disk
    writeFileSync(join(root, 'small.bin'), SMALL);
  }
  return server;
}

/** Logs in, prepares a passive data connection and starts `command` (150), then leaves the data connection alone. */
async function stall(server: TestServer, user: string, password: string, command: string): Promise<Stalled> {
  const ftp = await login(server, user, password);
  await ftp.expect('TYPE I', 200);
  const data = await ftp.prepareData('PASV');
  await ftp.expect(command, 150);
  const socket = await data();
  socket.pause(); // never reads (RETR) and never writes (STOR)
  return { ftp, data: socket };
}

/** Runs `count` stalls, `batch` at a time (a bounded burst of connections). */
async function stallMany(count: number, batch: number, start: (index: number) => Promise<Stalled>, into: Stalled[]): Promise<void> {
  for (let first = 0; first < count; first += batch) {
    const size = Math.min(batch, count - first);
    into.push(...(await Promise.all(Array.from({ length: size }, (_, offset) => start(first + offset)))));
  }
}

/** ABOR while the transfer still runs: 426 for the transfer, then 226 for the ABOR. */
async function abortStalled({ ftp, data }: Stalled): Promise<void> {
  const replies = [(await ftp.send('ABOR')).code, (await ftp.read()).code];
  assert.deepEqual(replies, [426, 226]);
  data.destroy();
  await ftp.expect('NOOP', 200);
}

function closeAll(stalled: Stalled[]): void {
  for (const { ftp, data } of stalled) {
    data.destroy();
    ftp.close();
  }
}

describe('stalled zero-copy transfers', () => {
  test('200 stalled RETR/STOR leave login, SIZE, LIST and a small RETR answering within 1 s', { timeout: 60_000 }, async () => {
    const server = await serverWithFiles({ timeouts: { data_idle: 60 } });
    const stalled: Stalled[] = [];
    try {
      // Each RETR/STOR opens its file through libuv's fs pool: with the pool held by stalled
      // transfers, these never get their 150.
      const stallAll = async () => {
        await stallMany(STALLED_RETR, 20, () => stall(server, 'anonymous', 'guest@example.org', 'RETR big.bin'), stalled);
        await stallMany(STALLED_STOR, 10, (index) => stall(server, USER, PASSWORD, `STOR upload-${index}.bin`), stalled);
      };
      await withTimeout(stallAll(), 9_000, 'starting 200 stalled transfers');

      const ftp = await withTimeout(FtpConnection.login(server.host, server.port, USER, PASSWORD), 1000, 'USER/PASS login');
      await ftp.expect('TYPE I', 200);
      const size = await withTimeout(ftp.send('SIZE small.bin'), 1000, 'SIZE');
      assert.deepEqual([size.code, size.text], [213, String(SMALL.length)]);
      const listing = await withTimeout(ftp.download('LIST'), 1000, 'LIST');
      assert.equal(listing.final.code, 226);
      assert.match(listing.data.toString(), /small\.bin/);
      const small = await withTimeout(ftp.download('RETR small.bin'), 1000, 'small RETR');
      assert.equal(small.final.code, 226);
      assert.deepEqual(small.data, SMALL);
      await ftp.quit();

      // The stalled ones were still running and stop at once when asked.
      await withTimeout(Promise.all(stalled.map(abortStalled)), 10_000, 'ABOR of every stalled transfer');
    } finally {
      closeAll(stalled);
      await server.stop();
    }
  });

  test('limits.zero_copy_threads bounds native transfers; past it, transfers take the stream path', { timeout: 30_000 }, async (t) => {
    if (!zeroCopyAvailable()) return t.skip('the zero-copy addon is not built here');
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);
    subscribe('ferry:transfer', onTransfer);
    const server = await serverWithFiles({ limits: { connection_rate: 0, zero_copy_threads: 2 }, timeouts: { data_idle: 60 } });
    const stalled: Stalled[] = [];
    try {
      stalled.push(await stall(server, USER, PASSWORD, 'RETR big.bin'), await stall(server, USER, PASSWORD, 'STOR upload.bin'));
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      assert.deepEqual((await ftp.download('RETR small.bin')).data, SMALL);
      assert.equal(seen.at(-1)?.zeroCopy, false, 'the third transfer took the stream path');

      await Promise.all(stalled.map(abortStalled));
      assert.ok(await waitFor(() => seen.length === 3), 'both stalled transfers ended');
      assert.deepEqual(seen.slice(1).map((event) => [event.verb, event.outcome]).sort(), [['RETR', 'aborted'], ['STOR', 'aborted']]);
      // Their threads are free again: the same download now goes zero-copy.
      assert.deepEqual((await ftp.download('RETR small.bin')).data, SMALL);
      assert.equal(seen.at(-1)?.zeroCopy, true);
      await ftp.quit();
    } finally {
      closeAll(stalled);
      unsubscribe('ferry:transfer', onTransfer);
      await server.stop();
    }
  });

  test('limits.zero_copy_threads = 0 turns zero-copy off', { timeout: 30_000 }, async () => {
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);
    subscribe('ferry:transfer', onTransfer);
    const server = await serverWithFiles({ limits: { zero_copy_threads: 0 } });
    try {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      assert.deepEqual((await ftp.download('RETR small.bin')).data, SMALL);
      assert.equal((await ftp.upload('STOR copy.bin', SMALL)).final.code, 226);
      assert.deepEqual(
        seen.map((event) => [event.verb, event.zeroCopy]),
        [['RETR', false], ['STOR', false]],
      );
      await ftp.quit();
    } finally {
      unsubscribe('ferry:transfer', onTransfer);
      await server.stop();
    }
  });
});
