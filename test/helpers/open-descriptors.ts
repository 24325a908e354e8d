/** Which of this process's descriptors are open on a file (Linux: read from /proc/self/fd). */
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';

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

/**
 * Opens `path` until the descriptor number `number` (just freed) comes back for it (the
 * kernel hands out the lowest free number), closing the ones opened on the way. Returns
 * the descriptor, or throws if the number does not come back within 64 opens.
 */
export function reopenAs(path: string, number: number): number {
  const spares: number[] = [];
  let fd = openSync(path, 'r');
  while (fd !== number && spares.length < 64) {
    spares.push(fd);
    fd = openSync(path, 'r');
  }
  for (const spare of spares) closeSync(spare);
  if (fd !== number) {
    closeSync(fd);
    throw new Error(`descriptor ${number} did not come back for ${path}`);
  }
  return fd;
}
