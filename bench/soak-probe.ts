/**
 * What the soak watches in the server process: open descriptors, listening TCP sockets
 * (the control listener plus passive listeners) and resident memory, from /proc. Linux only.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { memoryUse } from './proc.js';

export interface ProcessFigures {
  fds: number;
  listeners: number;
  rssBytes: number;
}

/** Socket inodes the process holds ("socket:[123]" descriptor links). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** TCP sockets in LISTEN state (0A) that belong to the process (matched by inode). */
function listeningSockets(pid: number): number {
  const owned = socketInodes(pid);
  let count = 0;
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields[3] === '0A' && owned.has(fields[9] ?? '')) count++;
    }
  }
  return count;
}

export function processFigures(pid: number): ProcessFigures {
  return { fds: readdirSync(`/proc/${pid}/fd`).length, listeners: listeningSockets(pid), rssBytes: memoryUse(pid).rssBytes };
}
