/** A bandwidth limit for one client transfer (TransferOptions.rateLimit): see util/token-bucket.ts. */
import type { Transform } from 'node:stream';
import { TokenBucket, throttleStream } from '../util/token-bucket.js';
import { FtpClientError } from './errors.js';

export function createThrottle(bytesPerSecond: number, now?: () => number): Transform {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new FtpClientError('usage', `rateLimit must be a positive number of bytes per second, not ${bytesPerSecond}`);
  return throttleStream(new TokenBucket(bytesPerSecond, now));
}
