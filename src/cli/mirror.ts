/**
 * `ferry mirror`: recursive download (or upload with --reverse) over several parallel
 * connections, resuming partial files with --continue. Remote names are checked before
 * they become local paths, so a hostile listing ("../x", "a/b") cannot write outside
 * the target folder.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FtpClient, isSafeName } from '../client/client.js';
import type { ProgressReporter } from './progress.js';

export interface MirrorJob {
  remote: string;
  local: string;
  size: number;
}

export interface MirrorOptions {
  reverse: boolean;
  parallel: number;
  resume: boolean;
  connect: () => Promise<FtpClient>;
  progress: ProgressReporter;
}

function joinRemote(dir: string, name: string): string {
  return dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
}

async function localSize(path: string): Promise<number | null> {
  return fs.stat(path).then(
    (s) => s.size,
    () => null,
  );
}

/** Remote tree -> directories to create locally and files to fetch. */
async function walkRemote(client: FtpClient, remote: string, local: string, dirs: string[], files: MirrorJob[]): Promise<void> {
  dirs.push(local);
  for (const entry of await client.list(remote)) {
    if (!isSafeName(entry.name)) continue;
    const childRemote = joinRemote(remote, entry.name);
    const childLocal = join(local, entry.name);
    if (entry.type === 'directory') await walkRemote(client, childRemote, childLocal, dirs, files);
    else if (entry.type === 'file') files.push({ remote: childRemote, local: childLocal, size: entry.size ?? 0 });
  }
}

/** Local tree -> directories to create remotely and files to send. */
async function walkLocal(local: string, remote: string, dirs: string[], files: MirrorJob[]): Promise<void> {
  dirs.push(remote);
  for (const entry of await fs.readdir(local, { withFileTypes: true })) {
    const childLocal = join(local, entry.name);
    const childRemote = joinRemote(remote, entry.name);
    if (entry.isDirectory()) await walkLocal(childLocal, childRemote, dirs, files);
    else if (entry.isFile()) files.push({ remote: childRemote, local: childLocal, size: (await fs.stat(childLocal)).size });
  }
}

async function downloadOne(client: FtpClient, job: MirrorJob, options: MirrorOptions): Promise<void> {
  const have = options.resume ? await localSize(job.local) : null;
  if (have !== null && have === job.size) {
    options.progress.file(job.remote, 'skipped').finish(have);
    return;
  }
  const startAt = have !== null && have < job.size ? have : undefined;
  const file = options.progress.file(job.remote, 'downloaded');
  await client.download(job.remote, job.local, { startAt, total: job.size, onProgress: (p) => file.update(p) });
  file.finish(job.size);
}

async function uploadOne(client: FtpClient, job: MirrorJob, options: MirrorOptions): Promise<void> {
  const have = options.resume ? await client.size(job.remote).catch(() => null) : null;
  if (have !== null && have === job.size) {
    options.progress.file(job.remote, 'skipped').finish(have);
    return;
  }
  const startAt = have !== null && have < job.size ? have : undefined;
  const file = options.progress.file(job.remote, 'uploaded');
  await client.upload(job.local, job.remote, { startAt, total: job.size, onProgress: (p) => file.update(p) });
  file.finish(job.size);
}

/** Runs the mirror; resolves with the number of files transferred or skipped. */
export async function mirror(first: FtpClient, remoteRoot: string, localRoot: string, options: MirrorOptions): Promise<number> {
  const dirs: string[] = [];
  const files: MirrorJob[] = [];
  if (options.reverse) {
    await walkLocal(localRoot, remoteRoot, dirs, files);
    for (const dir of dirs) if (dir !== '') await first.mkdir(dir, { recursive: true });
  } else {
    await walkRemote(first, remoteRoot, localRoot, dirs, files);
    for (const dir of dirs) await fs.mkdir(dir, { recursive: true });
  }
  const workers = Math.max(1, Math.min(options.parallel, files.length));
  const clients = [first];
  try {
    for (let i = 1; i < workers; i++) clients.push(await options.connect());
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next < files.length) {
          const job = files[next++]!;
          await (options.reverse ? uploadOne(client, job, options) : downloadOne(client, job, options));
        }
      }),
    );
  } finally {
    await Promise.all(clients.slice(1).map((client) => client.close().catch(() => undefined)));
  }
  return files.length;
}
