/**
 * A bandwidth limit for transfers (TransferOptions.rateLimit): a token bucket in a
 * Transform. Tokens (bytes) refill at the rate, up to a bucket of an eighth of a second's
 * worth, so a transfer never bursts more than that above the rate; a chunk larger than
 * the tokens on hand is passed on in pieces as tokens arrive. Backpressure still works:
 * the next chunk is taken only once the current one has been passed on.
 */
import { Transform } from 'node:stream';
import { FtpClientError } from './errors.js';

/** How many seconds of bytes the bucket holds: the largest burst above the rate. */
const BURST_SECONDS = 0.125;

export function createThrottle(bytesPerSecond: number, now: () => number = () => performance.now()): Transform {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new FtpClientError('usage', `rateLimit must be a positive number of bytes per second, not ${bytesPerSecond}`);
  const capacity = Math.max(1, Math.floor(bytesPerSecond * BURST_SECONDS));
  let tokens = capacity;
  let last = now();
  let timer: NodeJS.Timeout | undefined;
  const refill = () => {
    const at = now();
    tokens = Math.min(capacity, tokens + ((at - last) * bytesPerSecond) / 1000);
    last = at;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let offset = 0;
      const step = () => {
        timer = undefined;
        refill();
        const piece = Math.min(chunk.length - offset, Math.floor(tokens));
        if (piece > 0) {
          this.push(chunk.subarray(offset, offset + piece));
          offset += piece;
          tokens -= piece;
        }
        if (offset >= chunk.length) return callback();
        // Wait until the rest (or a full bucket, if the rest is larger) can go at once:
        // fewer, larger pieces than waking up for every few bytes.
        const wanted = Math.min(chunk.length - offset, capacity);
        timer = setTimeout(step, Math.max(1, Math.ceil(((wanted - tokens) * 1000) / bytesPerSecond)));
      };
      step();
    },
    destroy(error, callback) {
      clearTimeout(timer);
      callback(error);
    },
  });
}
