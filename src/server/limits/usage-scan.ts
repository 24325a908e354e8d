/**
 * Counting what a home holds: the bytes and files under it, walked through the user's
 * storage (a folder tree, or keys under an S3 prefix), one directory at a time so a big
 * tree costs time, not memory. A directory that cannot be read counts as empty and is
 * reported, so one unreadable folder does not stop a quota from working.
 */
import type { StorageBackend } from '../../storage/backend.js';
import { joinPath } from '../../protocol/paths.js';

export interface Usage {
  bytes: number;
  files: number;
}

export async function scanUsage(storage: StorageBackend, onUnreadable: (path: string, error: Error) => void): Promise<Usage> {
  const usage: Usage = { bytes: 0, files: 0 };
  const pending = ['/'];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    let entries;
    try {
      entries = await storage.list(path);
    } catch (error) {
      onUnreadable(path, error as Error);
      continue;
    }
    for (const entry of entries) {
      if (entry.type === 'directory') pending.push(joinPath(path, entry.name));
      else {
        usage.bytes += entry.size;
        usage.files += 1;
      }
    }
  }
  return usage;
}
