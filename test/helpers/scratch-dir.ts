/** Temporary folders for a test's own files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDir {
  dir: string;
  /** Removes the folder and everything in it. */
  remove(): void;
}

/** A fresh folder under the system temporary folder, removed by `remove()`. */
export function scratchDir(prefix = 'ferry-test-scratch-'): ScratchDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
