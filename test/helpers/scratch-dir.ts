/** Temporary folders for a test's own files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
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

/**
 * One scratch folder for a whole test file: made before its tests, removed after them.
 * Call at the top level; the returned function gives the folder's path inside tests.
 */
export function scratchDirForFile(prefix: string): () => string {
  let scratch: ScratchDir | undefined;
  before(() => {
    scratch = scratchDir(prefix);
  });
  after(() => scratch?.remove());
  return () => {
    if (!scratch) throw new Error('scratchDirForFile: used outside a test');
    return scratch.dir;
  };
}
