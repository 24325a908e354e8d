/**
 * Test data and how to compare it: every byte value, random bytes made once per test
 * process, a small folder tree for recursive transfers, and SHA-256 of buffers, files
 * and whole folder trees.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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
 * A small tree for recursive transfers (mirror, -r, uploadFromDir) at `dir`: both kinds
 * of test data (1 MiB of the random bytes), nesting two deep, an empty folder, a folder
 * name with a space, a text file with CRLF and LF (binary mode must keep both). Four
 * files in four folders, `dir` included.
 */
export function writeTestTree(dir: string): void {
  mkdirSync(join(dir, 'sub dir', 'deeper'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'all-bytes.bin'), ALL_BYTES);
  writeFileSync(join(dir, 'random.bin'), randomData().subarray(0, 1024 * 1024));
  writeFileSync(join(dir, 'sub dir', 'a.txt'), 'a\r\nb\n');
  writeFileSync(join(dir, 'sub dir', 'deeper', 'deep.bin'), ALL_BYTES.subarray(0, 1000));
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
