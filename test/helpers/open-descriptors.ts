/** Which of this process's descriptors are open on a file (Linux: read from /proc/self/fd). */
import { readdirSync, readlinkSync } from 'node:fs';

/** The numbers of this process's descriptors open on `path`. */
export function descriptorsOn(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile (the directory's own descriptor among them)
    }
  });
}
