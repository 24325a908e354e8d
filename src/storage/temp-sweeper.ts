/**
 * Removes upload temp files left behind by a crash (kill -9, power loss): a temp file is
 * stale when the server process named in it is gone, or when nothing has written to it
 * for longer than `maxAgeMs` (a live upload that idle is aborted by then anyway).
 * The walk is bounded (entries per sweep), asynchronous, and never follows links.
 */
import { promises as fs } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { isReservedName, uploadTempPid } from './upload-temp.js';

export interface SweepOptions {
  /** Folders to walk (storage roots, user homes); nested and repeated ones are walked once. */
  roots: readonly string[];
  /** A temp file untouched for this long is stale whoever wrote it. */
  maxAgeMs: number;
  /** Directory entries looked at per sweep, over all roots. */
  maxEntries?: number;
  /**
   * At start-up this process has no uploads yet, so a temp file named with its own pid is
   * a previous run's: in a container the server is pid 1 after every restart.
   */
  ownPidIsStale?: boolean;
  logger?: Logger;
}

export interface SweepResult {
  removed: string[];
  scanned: number;
  /** True when `maxEntries` stopped the walk before it was done. */
  truncated: boolean;
}

const DEFAULT_MAX_ENTRIES = 200_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Roots without duplicates and without folders that lie inside another root. */
function outermost(roots: readonly string[]): string[] {
  const unique = [...new Set(roots.map((root) => resolve(root)))].sort();
  return unique.filter((root) => !unique.some((other) => other !== root && root.startsWith(other.endsWith(sep) ? other : other + sep)));
}

async function isStale(path: string, name: string, options: SweepOptions): Promise<boolean> {
  const pid = uploadTempPid(name);
  if (pid !== null && options.ownPidIsStale && pid === process.pid) return true;
  if (pid !== null && !processAlive(pid)) return true;
  const stats = await fs.lstat(path);
  return stats.isFile() && Date.now() - stats.mtimeMs > options.maxAgeMs;
}

export async function sweepUploadTemps(options: SweepOptions): Promise<SweepResult> {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const result: SweepResult = { removed: [], scanned: 0, truncated: false };
  const pending = outermost(options.roots);
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let handle;
    try {
      handle = await fs.opendir(dir);
    } catch {
      continue; // vanished or unreadable: nothing to sweep there
    }
    for await (const entry of handle) {
      if (result.scanned >= maxEntries) {
        result.truncated = true;
        break; // leaving the loop closes the directory
      }
      result.scanned++;
      const path = join(dir, entry.name);
      // Dirent types come from readdir and do not follow links: a link is never walked.
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && isReservedName(entry.name)) {
        try {
          if (await isStale(path, entry.name, options)) {
            await fs.unlink(path);
            result.removed.push(path);
            options.logger?.info({ path }, 'removed a stale upload temp file');
          }
        } catch (error) {
          options.logger?.warn({ path, err: (error as Error).message }, 'could not remove a stale upload temp file');
        }
      }
    }
    if (result.truncated) break;
  }
  if (result.truncated) options.logger?.warn({ maxEntries }, 'upload temp sweep stopped at its entry limit');
  return result;
}

/** How often the sweep repeats while the server runs. */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface TempSweeper {
  /** Sweeps again now, unless a sweep is running (a reload added sites: their roots may hold a crashed run's files). */
  sweepNow(): Promise<void>;
  stop(): void;
}

/**
 * Sweeps now (resolving when done) and then every `intervalMs` on an unref'd timer;
 * `roots` is asked again each time, so new user homes are included.
 */
export async function startTempSweeper(options: Omit<SweepOptions, 'roots' | 'ownPidIsStale'> & { roots: () => readonly string[]; intervalMs?: number }): Promise<TempSweeper> {
  let running = false;
  const sweep = async (ownPidIsStale: boolean) => {
    if (running) return;
    running = true;
    try {
      await sweepUploadTemps({ ...options, roots: options.roots(), ownPidIsStale });
    } catch (error) {
      options.logger?.error({ err: (error as Error).message }, 'upload temp sweep failed');
    } finally {
      running = false;
    }
  };
  await sweep(true);
  const timer = setInterval(() => void sweep(false), options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return { sweepNow: () => sweep(false), stop: () => clearInterval(timer) };
}
