import { promises as fs } from 'node:fs';

/** The size of a local regular file, or null when there is none. */
export async function localFileSize(path: string): Promise<number | null> {
  return fs.stat(path).then(
    (s) => (s.isFile() ? s.size : null),
    () => null,
  );
}
