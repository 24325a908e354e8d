/**
 * Reading a server's resource use from /proc: CPU seconds of a process and of its
 * reaped children, and memory (RSS and PSS) summed over a process tree. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

function readStat(pid: number): StatFields | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]), cutime: Number(fields[13]), cstime: Number(fields[14]) };
  } catch {
    return null;
  }
}

/** The process and all its live descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds used so far by a server: the tree's live processes plus the children they
 * have reaped (vsftpd forks per session; finished sessions land in cutime/cstime).
 */
export function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const stat = readStat(pid);
    if (stat) ticks += stat.utime + stat.stime + stat.cutime + stat.cstime;
  }
  return ticks / CLOCK_TICKS;
}

export interface MemoryUse {
  processes: number;
  rssBytes: number;
  pssBytes: number;
}

/** RSS and PSS summed over a process tree (PSS splits shared pages fairly between forks). */
export function memoryUse(root: number): MemoryUse {
  let rss = 0;
  let pss = 0;
  const pids = processTree(root);
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return { processes: pids.length, rssBytes: rss, pssBytes: pss };
}

/** Jiffies the whole machine has spent busy and in total so far (/proc/stat's "cpu" line), whoever used them. */
export function machineJiffies(): { busy: number; total: number } {
  const fields = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]!.split(/\s+/).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal; guest time is already in user
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: total - idle, total };
}
