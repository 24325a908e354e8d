/** The transfer throttle (TransferOptions.rateLimit): bytes intact, pieces no larger than its bucket, waits that follow its clock. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FtpClientError } from '../../src/client/errors.js';
import { createThrottle } from '../../src/client/throttle.js';
import { TokenBucket, throttleStream } from '../../src/util/token-bucket.js';
import { randomData, sha256 } from '../helpers/data.js';
import { sleep, waitFor } from '../helpers/timing.js';

async function throughThrottle(rate: number, chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), createThrottle(rate), sink);
  return out;
}

describe('createThrottle', () => {
  test('every byte comes out, in order', async () => {
    const data = randomData(1024 * 1024);
    const chunks = [];
    for (let i = 0; i < data.length; i += 50_000) chunks.push(data.subarray(i, i + 50_000));
    const out = await throughThrottle(64 * 1024 * 1024, chunks);
    assert.equal(sha256(Buffer.concat(out)), sha256(data));
  });

  test('a chunk larger than the bucket (1/8 s of the rate) leaves in pieces no larger than it', async () => {
    // 80 000 B/s: a 10 000-byte bucket; 40 000 bytes take about 0.4 s.
    const data = randomData(40_000);
    const out = await throughThrottle(80_000, [data]);
    assert.equal(sha256(Buffer.concat(out)), sha256(data));
    assert.ok(out.length >= 4, `pieces: ${out.map((b) => b.length).join(', ')}`);
    assert.ok(
      out.every((piece) => piece.length <= 10_000),
      `pieces: ${out.map((b) => b.length).join(', ')}`,
    );
  });

  test('it waits for its clock: with the clock stopped only the bucket leaves; each 1/8 s of clock lets one more bucket through', async () => {
    // 8 000 B/s: a 1 000-byte bucket. The throttle's own timers run, but its clock moves only when told.
    let clock = 0;
    const throttle = createThrottle(8000, () => clock);
    const out: Buffer[] = [];
    throttle.on('data', (chunk: Buffer) => out.push(chunk));
    const data = randomData(3000);
    const done = new Promise<void>((resolve, reject) => throttle.once('end', resolve).once('error', reject));
    throttle.end(data);
    const passed = () => out.reduce((sum, chunk) => sum + chunk.length, 0);
    await sleep(300); // its wake-up (after 125 ms) finds no new tokens on a stopped clock
    assert.equal(passed(), 1000);
    clock += 125;
    assert.ok(await waitFor(() => passed() === 2000), `passed ${passed()}`);
    await sleep(300);
    assert.equal(passed(), 2000);
    clock += 1000;
    await done;
    assert.equal(sha256(Buffer.concat(out)), sha256(data));
  });

  test('a rate that is not a positive number is a usage error', () => {
    for (const bad of [0, -1, NaN, Infinity]) {
      assert.throws(
        () => createThrottle(bad),
        (error: unknown) => error instanceof FtpClientError && error.kind === 'usage',
      );
    }
  });

  test('two streams sharing one bucket get its rate together, not each; a new rate applies to both at once', async () => {
    let clock = 0;
    const bucket = new TokenBucket(8000, () => clock); // a 1 000-byte bucket
    const streams = [throttleStream(bucket), throttleStream(bucket)];
    const passed = [0, 0];
    streams.forEach((stream, i) => stream.on('data', (chunk: Buffer) => (passed[i]! += chunk.length)));
    const total = () => passed[0]! + passed[1]!;
    try {
      for (const stream of streams) stream.write(randomData(4000));
      await sleep(200);
      assert.equal(total(), 1000, `passed ${passed.join(' + ')}`);
      clock += 125; // one bucket's worth between them, however many wait
      assert.ok(await waitFor(() => total() === 2000), `passed ${passed.join(' + ')}`);
      await sleep(200);
      assert.equal(total(), 2000, `passed ${passed.join(' + ')}`);
      bucket.setRate(80_000); // a 10 000-byte bucket from now on
      clock += 1000;
      assert.ok(await waitFor(() => total() === 8000), `passed ${passed.join(' + ')}`);
    } finally {
      for (const stream of streams) stream.destroy();
    }
  });
});
