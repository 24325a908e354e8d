/**
 * `ferry mirror` on top of the library's tree transfers (src/client/tree-transfer.ts):
 * turns its events into the per-file lines and bars of progress.ts, the lines of a dry
 * run and of deletions, warnings for refused names on stderr, and the summary line.
 */
import { join } from 'node:path';
import type { FtpClient } from '../client/client.js';
import type { TreeEvent, TreeTransferOptions, TreeTransferResult } from '../client/tree-transfer.js';
import { Interrupted } from './interrupt.js';
import { formatSummary } from './mirror-summary.js';
import { mirrorFilter } from './path-glob.js';
import { createProgressReporter, type FileProgress } from './progress.js';

export interface MirrorSettings {
  /** Upload the local folder instead of downloading the remote one. */
  reverse: boolean;
  parallel: number;
  resume: boolean;
  onlyNewer: boolean;
  delete: boolean;
  dryRun: boolean;
  includes: string[];
  excludes: string[];
}

/** What a deletion line names: the target's path, a local one as the user wrote the folder, "/" after a folder. */
function deletedPath(event: TreeEvent, localDir: string, reverse: boolean): string {
  return (reverse ? event.remotePath : join(localDir, ...event.path.split('/'))) + (event.directory ? '/' : '');
}

/** What a dry run prints for one event. */
function dryRunLine(event: TreeEvent, localDir: string, reverse: boolean): string {
  if (event.action === 'delete') return `would delete ${deletedPath(event, localDir, reverse)}`;
  if (event.action === 'skip') return `would skip ${event.remotePath} (${event.reason})`;
  return `would ${reverse ? 'upload' : 'download'} ${event.remotePath} (${event.bytes} bytes)`;
}

/**
 * Runs the mirror and prints its summary. `signal` (Ctrl-C) aborts it: the running
 * transfers send ABOR, and it rejects with Interrupted saying how far it got.
 */
export async function mirror(client: FtpClient, remoteDir: string, localDir: string, settings: MirrorSettings, signal?: AbortSignal): Promise<void> {
  const progress = createProgressReporter();
  const files = new Map<string, { progress: FileProgress; size?: number }>();
  const count = { done: 0, planned: 0 };
  const options: TreeTransferOptions = {
    signal,
    filter: mirrorFilter(settings.includes, settings.excludes),
    onlyNewer: settings.onlyNewer,
    resume: settings.resume,
    delete: settings.delete,
    dryRun: settings.dryRun,
    parallel: settings.parallel,
    onPlan: ({ files }) => (count.planned = files),
    onStart: (file) => files.set(file.path, { progress: progress.file(file.remotePath, settings.reverse ? 'uploaded' : 'downloaded'), size: file.size }),
    onProgress: ({ path, bytes, total }) => files.get(path)?.progress.update({ bytes, total }),
    onDone: (event) => {
      if (event.dryRun) process.stdout.write(dryRunLine(event, localDir, settings.reverse) + '\n');
      else if (event.action === 'delete') process.stdout.write(`deleted ${deletedPath(event, localDir, settings.reverse)}\n`);
      else if (event.action === 'skip') progress.file(event.remotePath, 'skipped').finish(event.bytes);
      else {
        count.done++;
        const file = files.get(event.path);
        file?.progress.finish(file.size ?? event.bytes);
        files.delete(event.path);
      }
    },
    onWarning: (message) => process.stderr.write(`ferry: warning: ${message}\n`),
    onRefused: ({ directory, name, reason }) => process.stderr.write(`ferry: not copied: ${JSON.stringify(name)} in ${JSON.stringify(directory || '.')}: ${reason}\n`),
  };
  let result: TreeTransferResult;
  try {
    result = settings.reverse ? await client.uploadDir(localDir, remoteDir, options) : await client.downloadDir(remoteDir, localDir, options);
  } catch (error) {
    if (signal?.aborted) throw new Interrupted(`interrupted: mirror after ${count.done} of ${count.planned} files; run it again with -c to resume`, { cause: error });
    throw error;
  } finally {
    progress.stop();
  }
  process.stdout.write(formatSummary(result, settings.dryRun) + '\n');
}
