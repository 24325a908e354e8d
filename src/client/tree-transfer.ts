/**
 * Recursive folder transfers: `FtpClient.downloadDir` and `uploadDir` (what basic-ftp
 * calls downloadToDir / uploadFromDir), and the engine under `ferry mirror`. Both trees
 * are read first (tree-walk.ts), compared (tree-plan.ts), then the plan runs: entries of
 * another type replaced, folders, the files over one or more connections, and last (as
 * lftp does) the deletions, so a transfer failing halfway has deleted nothing.
 *
 * Safety: remote names that could leave the local folder are refused (reported through
 * `onRefused`, never written); every local path is checked to resolve inside the target;
 * symbolic links in the local tree are neither followed when writing nor uploaded.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { formatTimeVal } from '../protocol/listing.js';
import type { FtpClient } from './client.js';
import { FtpClientError } from './errors.js';
import { NoFollowFileSink, openNoFollow, setLocalTime } from './local-file.js';
import { isInside } from './safe-name.js';
import { planTree, type Plan, type PlannedFile } from './tree-plan.js';
import { assertRemoteFolder, joinRemote, walkLocal, walkRemote, type TreeNode, type TreeRefusal } from './tree-walk.js';

export type { TreeRefusal } from './tree-walk.js';

/** One file of a tree transfer, as `onStart` sees it. */
export interface TreeFile {
  /** Relative to the transferred folder, "/"-separated. */
  path: string;
  /** The remote folder joined with `path`, as sent to the server. */
  remotePath: string;
  /** Absolute, inside the local folder. */
  localPath: string;
  /** Bytes, when known. */
  size?: number;
  /** Resumed at this offset (`resume`). */
  startAt?: number;
}

export interface TreeProgress {
  /** Relative path of the file whose bytes are moving. */
  path: string;
  /** Bytes of that file so far (counting a resumed part). */
  bytes: number;
  /** The file's size, when known. */
  total?: number;
}

/** Something done (or, with `dryRun`, that would be done) to one entry. */
export interface TreeEvent {
  /** 'transfer': copied; 'skip': left as it is (see `reason`); 'delete': removed from the target. */
  action: 'transfer' | 'skip' | 'delete';
  /** Relative to the transferred folder (as in TreeFile, with `remotePath` and `localPath`). */
  path: string;
  remotePath: string;
  localPath: string;
  /** True for a folder (only deletions remove folders). */
  directory: boolean;
  /** Bytes moved (transfer) or the file's size (skip); 0 for deletions. */
  bytes: number;
  /** Why a file was skipped: 'complete' (`resume`) or 'not newer' (`onlyNewer`). */
  reason?: 'complete' | 'not newer';
  /** True when nothing was changed (`dryRun`). */
  dryRun: boolean;
}

export interface TreeTransferOptions {
  /**
   * Decides which entries take part, by their path relative to the folder ("sub/a.txt");
   * false for a folder leaves out everything in it. The same test applies on both sides:
   * an entry it leaves out is neither transferred nor deleted. Default: everything.
   */
  filter?: (path: string, isDirectory: boolean) => boolean;
  /**
   * Transfer a file only when the source is newer (to the second), as lftp's -n: a target
   * that is not older is kept whatever its size. When a time is unknown, when the sizes differ.
   */
  onlyNewer?: boolean;
  /**
   * Resume partial files and skip complete ones: a target file smaller than the source is
   * continued from its size (REST), one of the same size is skipped. A source file known
   * to be newer is always sent whole.
   */
  resume?: boolean;
  /**
   * Delete what the target has and the source does not (files and folders, recursively),
   * and replace a target entry of another type (a folder where the source has a file).
   */
  delete?: boolean;
  /** Read both trees and report every step through `onDone` (with `dryRun: true`), changing nothing. */
  dryRun?: boolean;
  /**
   * Connections transferring files at once (default 1). More than one opens extra
   * connections with this client's options, closed at the end.
   */
  parallel?: number;
  /**
   * Keep modification times (default true): a download sets the local file's time from
   * the MLSD modify fact or MDTM; an upload sets the remote time with MFMT when the
   * server offers it in FEAT.
   */
  preserveTimes?: boolean;
  /** The trees are compared: `files` to transfer and target entries to delete (before anything is changed). */
  onPlan?: (plan: { files: number; deletions: number }) => void;
  /** A file transfer begins. */
  onStart?: (file: TreeFile) => void;
  /** Bytes of a file moved. */
  onProgress?: (progress: TreeProgress) => void;
  /** A file was transferred or skipped, or an entry deleted (or would be, with `dryRun`). */
  onDone?: (event: TreeEvent) => void;
  /**
   * An entry was left out for safety: a name that could escape the folder ("..", "a/b",
   * "C:x", control characters), a symbolic link or special file, a clash of types
   * without `delete`, or nesting deeper than 64 folders. Nothing is written for it.
   */
  onRefused?: (refusal: TreeRefusal) => void;
  /** Cancels the running transfer (ABOR) and rejects with kind 'aborted'. */
  signal?: AbortSignal;
  /**
   * Something went less well than asked but the transfer goes on: an extra connection
   * (`parallel`) could not be opened (a server allowing one, 421), so fewer are used.
   */
  onWarning?: (message: string) => void;
}

export interface TreeTransferResult {
  /** Files transferred (or that would be, with `dryRun`). */
  transferred: number;
  skipped: number;
  /** Target entries deleted (a folder counts once). */
  deleted: number;
  refused: number;
  /** Bytes moved (a resumed file counts what was sent). */
  bytes: number;
  elapsedMs: number;
}

interface Job {
  direction: 'download' | 'upload';
  remoteRoot: string;
  /** Absolute; the real path when the folder exists. */
  localRoot: string;
  options: TreeTransferOptions;
  /** Opens one more connection like the first one. */
  connectMore: () => Promise<FtpClient>;
}

const everything = () => true;

/** Downloads `remoteDir` into `localDir` (created when missing). */
export function downloadTree(client: FtpClient, connectMore: () => Promise<FtpClient>, remoteDir: string, localDir: string, options: TreeTransferOptions = {}): Promise<TreeTransferResult> {
  return transferTree(client, { direction: 'download', remoteRoot: remoteDir, localRoot: localDir, options, connectMore });
}

/** Uploads `localDir` into `remoteDir` (created when missing). */
export function uploadTree(client: FtpClient, connectMore: () => Promise<FtpClient>, localDir: string, remoteDir: string, options: TreeTransferOptions = {}): Promise<TreeTransferResult> {
  return transferTree(client, { direction: 'upload', remoteRoot: remoteDir, localRoot: localDir, options, connectMore });
}

async function transferTree(client: FtpClient, spec: Job): Promise<TreeTransferResult> {
  const started = Date.now();
  const { options } = spec;
  if (/[\r\n\0]/.test(spec.remoteRoot)) throw new FtpClientError('usage', 'a remote folder must not contain CR, LF or NUL');
  // The folder named by the caller may itself be a link (their choice); below it, nothing is followed.
  const job: Job = { ...spec, localRoot: await fs.realpath(spec.localRoot).catch(() => resolve(spec.localRoot)) };
  const result: TreeTransferResult = { transferred: 0, skipped: 0, deleted: 0, refused: 0, bytes: 0, elapsedMs: 0 };
  const refuse = (refusal: TreeRefusal) => {
    result.refused++;
    options.onRefused?.(refusal);
  };
  const walk = { filter: options.filter ?? everything, refuse };
  const preserveTimes = options.preserveTimes ?? true;
  const compares = (options.onlyNewer ?? false) || (options.resume ?? false);
  if (job.direction === 'download') await assertRemoteFolder(client, job.remoteRoot);
  const remote = await walkRemote(client, job.remoteRoot, {
    ...walk,
    times: job.direction === 'download' ? preserveTimes || compares : compares,
    missingIsEmpty: job.direction === 'upload',
  });
  const local = await walkLocal(job.localRoot, { ...walk, missingIsEmpty: job.direction === 'download' });
  const [source, target] = job.direction === 'download' ? [remote, local] : [local, remote];
  const plan = planTree(source, target, { onlyNewer: options.onlyNewer ?? false, resume: options.resume ?? false, delete: options.delete ?? false });
  plan.refusals.forEach(refuse);
  options.onPlan?.({ files: plan.transfers.length, deletions: plan.replacements.length + plan.deletions.length });
  const dryRun = options.dryRun ?? false;
  const paths = (path: string) => ({ path, remotePath: joinRemote(job.remoteRoot, path), localPath: localPathOf(job.localRoot, path) });
  const transferred = (file: PlannedFile, bytes: number) => {
    result.transferred++;
    result.bytes += bytes;
    options.onDone?.({ action: 'transfer', ...paths(file.path), directory: false, bytes, dryRun });
  };

  const deleteAll = async (nodes: TreeNode[]) => {
    for (const node of nodes) {
      if (!dryRun) await deleteTarget(client, job, node);
      result.deleted++;
      options.onDone?.({ action: 'delete', ...paths(node.path), directory: node.type === 'directory', bytes: 0, dryRun });
    }
  };
  await deleteAll(plan.replacements);
  for (const skip of plan.skipped) {
    result.skipped++;
    options.onDone?.({ action: 'skip', ...paths(skip.path), directory: false, bytes: skip.size ?? 0, reason: skip.reason, dryRun });
  }
  if (dryRun) {
    for (const file of plan.transfers) transferred(file, (file.size ?? 0) - (file.startAt ?? 0));
  } else {
    await createDirectories(client, job, plan);
    await runTransfers(client, job, plan.transfers, preserveTimes, transferred);
  }
  await deleteAll(plan.deletions);
  result.elapsedMs = Date.now() - started;
  return result;
}

/** The local path for a relative path; refuses anything that would resolve outside the root. */
function localPathOf(root: string, path: string): string {
  const full = resolve(root, ...path.split('/'));
  if (!isInside(root, full)) throw new FtpClientError('usage', `refused: ${JSON.stringify(path)} resolves outside ${root}`);
  return full;
}

async function deleteTarget(client: FtpClient, job: Job, node: TreeNode): Promise<void> {
  if (job.direction === 'download') {
    // fs.rm removes a symbolic link itself, never what it points to, also inside folders.
    await fs.rm(localPathOf(job.localRoot, node.path), { recursive: node.type === 'directory' });
    return;
  }
  const path = joinRemote(job.remoteRoot, node.path);
  if (node.type === 'directory') await client.removeDir(path, { recursive: true });
  else await client.remove(path);
}

async function createDirectories(client: FtpClient, job: Job, plan: Plan): Promise<void> {
  if (job.direction === 'upload') {
    if (job.remoteRoot !== '') await client.mkdir(job.remoteRoot, { recursive: true });
    for (const path of plan.directories) await client.mkdir(joinRemote(job.remoteRoot, path));
    return;
  }
  await fs.mkdir(job.localRoot, { recursive: true });
  for (const path of plan.directories) {
    const full = localPathOf(job.localRoot, path);
    // The walk found nothing there; something that appeared since must be a real folder.
    await fs.mkdir(full).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST' || !(await fs.lstat(full)).isDirectory()) throw error;
    });
  }
}

/** Runs the file transfers over `parallel` connections; `done` gets each file and the bytes moved. */
async function runTransfers(first: FtpClient, job: Job, files: PlannedFile[], preserveTimes: boolean, done: (file: PlannedFile, bytes: number) => void): Promise<void> {
  const workers = Math.max(1, Math.min(job.options.parallel ?? 1, files.length));
  const clients = [first];
  try {
    for (let i = 1; i < workers; i++) {
      try {
        clients.push(await job.connectMore());
      } catch (error) {
        // Many servers allow one or two connections per user; the ones open carry the work.
        if (job.options.signal?.aborted || (error instanceof FtpClientError && error.kind === 'aborted')) throw error;
        const count = `${clients.length} connection${clients.length === 1 ? '' : 's'}`;
        job.options.onWarning?.(`could not open connection ${i + 1} of ${workers} (${error instanceof Error ? error.message : String(error)}); going on with ${count}`);
        break;
      }
    }
    let next = 0;
    // After a failure no worker starts another file, and all have stopped before the
    // extra connections close and the error is thrown.
    let failure: { error: unknown } | undefined;
    await Promise.all(
      clients.map(async (client) => {
        while (!failure && next < files.length) {
          const file = files[next++]!;
          try {
            done(file, await transferFile(client, job, file, preserveTimes));
          } catch (error) {
            failure ??= { error };
          }
        }
      }),
    );
    if (failure) throw failure.error;
  } finally {
    await Promise.all(clients.slice(1).map((client) => client.close().catch(() => undefined)));
  }
}

/** One file, then its time; resolves with the bytes moved. */
async function transferFile(client: FtpClient, job: Job, file: PlannedFile, preserveTimes: boolean): Promise<number> {
  const { options } = job;
  const remotePath = joinRemote(job.remoteRoot, file.path);
  const localPath = localPathOf(job.localRoot, file.path);
  const startAt = file.startAt ?? 0;
  let bytes = startAt;
  options.onStart?.({ path: file.path, remotePath, localPath, size: file.size, startAt: file.startAt });
  const transfer = {
    startAt: file.startAt,
    total: file.size,
    signal: options.signal,
    onProgress: (progress: { bytes: number; total?: number }) => {
      bytes = progress.bytes;
      options.onProgress?.({ path: file.path, ...progress });
    },
  };
  if (job.direction === 'download') {
    await client.download(remotePath, new NoFollowFileSink(localPath, startAt), transfer);
    if (preserveTimes && file.modifiedAt) await setLocalTime(localPath, file.modifiedAt);
  } else {
    const handle = await openNoFollow(localPath);
    try {
      await client.upload(handle.createReadStream({ start: startAt, autoClose: false }), remotePath, transfer);
    } finally {
      await handle.close();
    }
    // MFMT is best effort: a refusal leaves the upload in place with the server's time.
    if (preserveTimes && file.modifiedAt && client.features.has('MFMT')) await client.send(`MFMT ${formatTimeVal(file.modifiedAt)} ${remotePath}`);
  }
  return bytes - startAt;
}
