/**
 * STAT during a zero-copy transfer counts the bytes the addon's thread has moved so far:
 * sendfile(2) and splice(2) move them out of the data socket's sight, so its counters
 * (what a streamed transfer reports) stay 0 until the end.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { TransferEvent } from '../../src/observability/events.js';
import { zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import type { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { login } from './support.js';

/** Far more than the socket buffers between a paused reader and the server can hold. */
const BIG_BYTES = 256 * 1024 * 1024;
/** What the RETR client reads between two STATs. */
const READ_MORE = 4 * 1024 * 1024;
const PART = Buffer.alloc(1024 * 1024, 'u');

/** The running count STAT reports ("Transferring RETR /big.bin: N bytes so far"). */
async function statBytes(ftp: FtpConnection): Promise<number> {
  const stat = await ftp.send('STAT');
  assert.equal(stat.code, 211, stat.lines.join(' | '));
  const match = stat.lines.join('\n').match(/: (\d+) bytes so far/);
  assert.ok(match, stat.lines.join(' | '));
  return Number(match[1]);
}

/** Polls STAT until its count passes `floor`; the last count seen. */
async function statBytesAbove(ftp: FtpConnection, floor: number): Promise<number> {
  let bytes = 0;
  assert.ok(await waitFor(async () => (bytes = await statBytes(ftp)) > floor, 10_000), `STAT never reported more than ${floor} bytes (last: ${bytes})`);
  return bytes;
}

/** Reads from a paused data socket until `count` more bytes have come, then pauses it again. */
async function readMore(data: Socket, count: number): Promise<void> {
  let read = 0;
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read < count) return;
      data.pause();
      data.off('data', onData);
      resolve();
    };
    data.on('data', onData);
    data.resume();
  });
}

describe('STAT during a zero-copy transfer', () => {
  let server: TestServer;
  const seen: TransferEvent[] = [];
  const onTransfer = (message: unknown) => seen.push(message as TransferEvent);

  before(async () => {
    subscribe('ferry:transfer', onTransfer);
    server = await startServer({ timeouts: { data_idle: 60 } });
    writeFileSync(join(server.root, 'big.bin'), '');
    truncateSync(join(server.root, 'big.bin'), BIG_BYTES); // sparse: costs no disk
  });

  after(async () => {
    unsubscribe('ferry:transfer', onTransfer);
    await server.stop();
  });

  test('RETR to a paused reader: a non-zero count that grows as the client reads', { timeout: 30_000 }, async (t) => {
    if (!zeroCopyAvailable()) return t.skip('the zero-copy addon is not built here');
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const connect = await ftp.prepareData('EPSV');
    await ftp.expect('RETR big.bin', 150);
    const data = await connect();
    data.pause();
    data.on('error', () => undefined);
    try {
      // sendfile fills the socket buffers, then waits for the reader.
      const first = await statBytesAbove(ftp, 0);
      assert.ok(first < BIG_BYTES, `${first} bytes: the transfer is still running`);
      await readMore(data, first + READ_MORE);
      // The count moves between sendfile calls, which return once the paused reader's buffers are full again.
      const second = await statBytesAbove(ftp, first + READ_MORE - 1);
      assert.ok(second >= first + READ_MORE, `${second} bytes after ${first}: at least what the client has read`);

      assert.deepEqual([(await ftp.send('ABOR')).code, (await ftp.read()).code], [426, 226]);
      const event = seen.at(-1);
      assert.deepEqual([event?.verb, event?.outcome, event?.zeroCopy], ['RETR', 'aborted', true]);
      assert.ok(event!.bytes >= second, `the transfer's final count ${event!.bytes} is at least the last STAT's`);
    } finally {
      data.destroy();
      await ftp.quit();
    }
  });

  test('STOR from a client that sends part and waits: the count of what has landed', { timeout: 30_000 }, async (t) => {
    if (!zeroCopyAvailable()) return t.skip('the zero-copy addon is not built here');
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const connect = await ftp.prepareData('EPSV');
    await ftp.expect('STOR upload.bin', 150);
    const data = await connect();
    try {
      data.write(PART);
      assert.ok(await waitFor(async () => (await statBytes(ftp)) === PART.length, 10_000), 'STAT counts the first part');
      data.write(PART);
      assert.ok(await waitFor(async () => (await statBytes(ftp)) === 2 * PART.length, 10_000), 'STAT counts the second part');
      data.end();
      assert.equal((await ftp.read()).code, 226);
      assert.equal(statSync(join(server.root, 'upload.bin')).size, 2 * PART.length);
      const event = seen.at(-1);
      assert.deepEqual([event?.verb, event?.outcome, event?.zeroCopy, event?.bytes], ['STOR', 'complete', true, 2 * PART.length]);
    } finally {
      data.destroy();
      await ftp.quit();
    }
  });
});
