/**
 * A bandwidth limit: a token bucket (tokens are bytes) and a Transform that lets bytes
 * through only as tokens arrive. Tokens refill at the rate, up to a bucket of an eighth
 * of a second's worth, so a stream never bursts more than that above the rate. One
 * bucket may be shared by many streams (all of one user's uploads on a server): together
 * they get the rate, each waking up for what it needs. The rate can change while streams
 * run (a config reload).
 */
import { Transform } from 'node:stream';

/** How many seconds of bytes the bucket holds: the largest burst above the rate. */
const BURST_SECONDS = 0.125;

const capacityFor = (bytesPerSecond: number) => Math.max(1, Math.floor(bytesPerSecond * BURST_SECONDS));

export class TokenBucket {
  private tokens: number;
  private last: number;
  private capacityBytes: number;

  constructor(
    private bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacityBytes = capacityFor(bytesPerSecond);
    this.tokens = this.capacityBytes;
    this.last = now();
  }

  get rate(): number {
    return this.bytesPerSecond;
  }

  /** A new rate (bytes per second, > 0); the tokens on hand are kept, up to the new bucket. */
  setRate(bytesPerSecond: number): void {
    this.refill();
    this.bytesPerSecond = bytesPerSecond;
    this.capacityBytes = capacityFor(bytesPerSecond);
    this.tokens = Math.min(this.tokens, this.capacityBytes);
  }

  private refill(): void {
    const at = this.now();
    this.tokens = Math.min(this.capacityBytes, this.tokens + ((at - this.last) * this.bytesPerSecond) / 1000);
    this.last = at;
  }

  /** Takes up to `wanted` bytes' worth of tokens; returns how many it got (maybe 0). */
  take(wanted: number): number {
    this.refill();
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until `wanted` tokens (at most a bucketful) will be on hand, at least 1. */
  waitFor(wanted: number): number {
    const needed = Math.min(wanted, this.capacityBytes) - this.tokens;
    return Math.max(1, Math.ceil((needed * 1000) / this.bytesPerSecond));
  }
}

/**
 * A Transform that passes its bytes on at the bucket's rate: a chunk larger than the
 * tokens on hand goes in pieces as tokens arrive. Backpressure still works: the next
 * chunk is taken only once the current one has been passed on.
 */
export function throttleStream(bucket: TokenBucket): Transform {
  let timer: NodeJS.Timeout | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let offset = 0;
      const step = () => {
        timer = undefined;
        const piece = bucket.take(chunk.length - offset);
        if (piece > 0) {
          this.push(chunk.subarray(offset, offset + piece));
          offset += piece;
        }
        if (offset >= chunk.length) return callback();
        // Wait until the rest (or a full bucket, if the rest is larger) can go at once:
        // fewer, larger pieces than waking up for every few bytes.
        timer = setTimeout(step, bucket.waitFor(chunk.length - offset));
      };
      step();
    },
    destroy(error, callback) {
      clearTimeout(timer);
      callback(error);
    },
  });
}
