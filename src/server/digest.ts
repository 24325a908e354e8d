/**
 * File digests for HASH and the X-digest commands: the algorithms this Node offers,
 * and hashing a byte range of a stored file by streaming through it, never holding it.
 * A 10 GiB file costs one read buffer and many short event-loop turns (each chunk is
 * hashed between reads), and the work stops as soon as the session closes.
 */
import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { FtpError } from '../errors.js';
import type { StorageBackend } from '../storage/backend.js';

/** Names as draft-bryan-ftpext-hash wants them (IANA "Hash Function Textual Names"; CRC32 as ProFTPD and FileZilla name it). */
export type HashAlgorithm = 'SHA-256' | 'SHA-1' | 'MD5' | 'CRC32';

/** zlib.crc32 arrived in Node 20.15 / 22.2; without it CRC32 is simply not offered. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** What this process can compute, the default (SHA-256, stronger than SHA-1 as the draft asks) first. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['SHA-256', 'SHA-1', 'MD5', ...(crc32 ? (['CRC32'] as const) : [])];

export const DEFAULT_HASH_ALGORITHM: HashAlgorithm = 'SHA-256';

/** The algorithm a client named (case-insensitive), if offered here. */
export function findHashAlgorithm(name: string): HashAlgorithm | undefined {
  return HASH_ALGORITHMS.find((algorithm) => algorithm === name.toUpperCase());
}

interface Hasher {
  update(chunk: Buffer): void;
  /** Lowercase hexadecimal. */
  hex(): string;
}

function hasherFor(algorithm: HashAlgorithm): Hasher {
  if (algorithm === 'CRC32') {
    let value = 0;
    return {
      update: (chunk) => (value = crc32!(chunk, value)),
      hex: () => value.toString(16).padStart(8, '0'),
    };
  }
  const hash = createHash(algorithm === 'SHA-256' ? 'sha256' : algorithm === 'SHA-1' ? 'sha1' : 'md5');
  return { update: (chunk) => hash.update(chunk), hex: () => hash.digest('hex') };
}

/** Hashes the first `length` bytes of `stream`; rejects (and destroys it) when `signal` aborts. */
async function digestStream(stream: Readable, length: number, algorithm: HashAlgorithm, signal: AbortSignal): Promise<string> {
  const hasher = hasherFor(algorithm);
  let remaining = length;
  try {
    // Leaving the loop early (enough bytes, or an abort) destroys the stream.
    if (remaining > 0) {
      for await (const chunk of addAbortSignal(signal, stream) as AsyncIterable<Buffer>) {
        const part = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
        hasher.update(part);
        remaining -= part.length;
        if (remaining <= 0) break;
      }
    }
  } catch (error) {
    if (signal.aborted) throw new FtpError('FERRY_ERR_DATA_ABORTED', 'Session closed; hashing stopped.');
    throw error;
  }
  if (remaining > 0) throw new FtpError('FERRY_ERR_STORAGE', 'The file changed while it was hashed.');
  return hasher.hex();
}

export interface FileDigest {
  hex: string;
  /** First byte hashed. */
  start: number;
  /** Bytes hashed. */
  length: number;
  /** The file's size when it was opened. */
  size: number;
}

/**
 * Hashes `length` bytes from `start` of a stored file (to its end when `length` is
 * omitted or runs past it). The storage opens the file, so its confinement applies
 * (links out of the root are not followed); a start beyond the end is refused.
 */
export async function digestFile(
  storage: StorageBackend,
  path: string,
  algorithm: HashAlgorithm,
  options: { start?: number; length?: number; signal: AbortSignal },
): Promise<FileDigest> {
  const start = options.start ?? 0;
  const download = await storage.read(path, { start });
  try {
    const length = Math.min(options.length ?? Infinity, download.size - start);
    const hex = await digestStream(download.stream, length, algorithm, options.signal);
    return { hex, start, length, size: download.size };
  } finally {
    download.close();
  }
}
