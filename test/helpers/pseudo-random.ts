/**
 * Deterministic pseudo-random bytes of any size without holding them: the AES-128-CTR
 * keystream of a seed (incompressible, ~1 GB/s). The same seed gives the same bytes, so
 * a multi-GB upload can be checked by a hash computed while it streams.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK_BYTES = 256 * 1024;

function* keystream(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  for (let left = size; left > 0; left -= CHUNK_BYTES) {
    yield cipher.update(left >= CHUNK_BYTES ? zeros : zeros.subarray(0, left));
  }
}

/** A stream of those bytes and the SHA-256 of what it has produced so far (complete once it ends). */
export function pseudoRandomStream(seed: string, size: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  function* hashed(): Generator<Buffer> {
    for (const chunk of keystream(seed, size)) {
      hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(hashed(), { objectMode: false }), sha256: () => hash.copy().digest('hex') };
}
