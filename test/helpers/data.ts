/**
 * Test data and how to compare it: every byte value, random bytes made once per test
 * process, and SHA-256 of buffers, files and whole folder trees.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Every byte value 0..255, repeated 257 times (65,792 bytes): a binary-safety probe. */
export const ALL_BYTES: Buffer = Buffer.from(Array.from({ length: 256 * 257 }, (_, i) => i % 256));

/** The default size of `randomData()`: 5 MiB. */
export const RANDOM_SIZE = 5 * 1024 * 1024;

const randomBySize = new Map<number, Buffer>();

/** `size` random bytes, made once per test process (the same bytes on every call). */
export function randomData(size = RANDOM_SIZE): Buffer {
  let data = randomBySize.get(size);
  if (!data) {
    data = randomBytes(size);
    randomBySize.set(size, data);
  }
  return data;
}

/**
 * Every entry below `dir` as relative path -> sha256 for files, "dir" for folders,
 * so two trees compare with one deepEqual (stray temporary files show up too).
 */
export function treeHashes(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      out[relative] = 'dir';
      Object.assign(out, treeHashes(full, relative));
    } else {
      out[relative] = sha256File(full);
    }
  }
  return out;
}
