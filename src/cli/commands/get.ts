/**
 * `ferry get URL... [LOCAL]`: download files. One URL goes to LOCAL (a file, or into a
 * folder) or ./NAME; several URLs, or a wildcard in a URL's last segment ("dir/*.txt",
 * matched against a listing), go into the folder LOCAL (made when missing) or ".";
 * LOCAL "-" writes to stdout.
 */
import { promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import type { Command } from 'commander';
import type { FtpClient } from '../../client/client.js';
import { FtpClientError } from '../../client/errors.js';
import { isUrl, parseFtpUrl, UsageError, type ConnectFlags, type RemoteTarget } from '../remote.js';
import { matchEntries, splitPattern } from '../wildcards.js';
import { connectionOptions } from './connection-options.js';
import { localFileSize } from './local-size.js';
import { StdoutSink } from './stdout-sink.js';
import { transferOptions, type TransferFlags } from './transfer-options.js';
import { runTransfers, type Job, type Session } from './transfers.js';

type GetFlags = ConnectFlags & TransferFlags;

/** The last argument is the local side when it is not a URL and something comes before it. */
function localArgument(args: string[]): string | undefined {
  const last = args[args.length - 1]!;
  return args.length > 1 && !isUrl(last) ? last : undefined;
}

/** SIZE, or undefined when the server has no SIZE (the client's kind 'usage'); a missing file and a lost connection still fail. */
function remoteSize(client: FtpClient, path: string): Promise<number | undefined> {
  return client.size(path).catch((error: unknown) => {
    if (error instanceof FtpClientError && error.kind === 'usage') return undefined;
    throw error;
  });
}

/** A folder to download several files into: made when missing, refused when it is something else. */
async function localFolder(path: string): Promise<string> {
  const stat = await fs.stat(path).catch(() => null);
  if (stat && !stat.isDirectory()) throw new UsageError(`${path} is not a folder (several files go into a folder)`);
  if (!stat) await fs.mkdir(path, { recursive: true });
  return path;
}

/** Where one file given alone goes: LOCAL, into LOCAL when it is a folder (or ends in "/"), else ./NAME. */
async function singleDestination(local: string | undefined, name: string): Promise<string> {
  if (local === undefined) return name;
  if (local === '-') return local;
  if (local.endsWith('/')) return join(await localFolder(local), name);
  return (await fs.stat(local).catch(() => null))?.isDirectory() ? join(local, name) : local;
}

/** The remote files a wildcard URL names: files and links of its folder whose names match. */
async function matchRemote(session: Session, target: RemoteTarget, dir: string, pattern: string): Promise<Array<{ path: string; size?: number }>> {
  const entries = await session.withRetries(target, (client) => client.list(dir));
  const files = matchEntries(entries.filter((entry) => entry.type !== 'directory'), { dir, pattern });
  return files.map((file) => ({ path: dir + file.name, size: file.size }));
}

function downloadJob(target: RemoteTarget, remote: string, local: string, knownSize: number | undefined, flags: GetFlags): Job {
  const stdout = local === '-' ? new StdoutSink() : null;
  // How many leading bytes of the local file are known to be the remote file's: with -c
  // what was there, then what this run has passed on. A try that failed before the file
  // was opened wrote nothing, so an old file's bytes are never taken for downloaded ones.
  let held = 0;
  return {
    target,
    direction: 'download',
    remote,
    local,
    size: knownSize,
    resumable: stdout === null,
    retryable: () => true,
    async run({ client, retry, signal, rateLimit, onProgress }) {
      const total = knownSize ?? (await remoteSize(client, remote));
      // A retry continues where the earlier try stopped when the server can (REST).
      const rest = client.canResume;
      let startAt = 0;
      if (stdout) {
        if (stdout.written > 0 && !rest) throw new FtpClientError('reply', `cannot resume ${remote} on stdout: the server offers no REST`);
        startAt = stdout.written;
      } else if (flags.continue || (retry > 0 && rest)) {
        const have = await localFileSize(local);
        if (retry === 0) held = have ?? 0;
        // Bytes counted may not have reached the disk before the try failed.
        const usable = Math.min(have ?? 0, held);
        if (have !== null && usable === total) return { bytes: usable, skipped: retry === 0 };
        if (total !== undefined && usable > total) {
          if (retry === 0) throw new UsageError(`${local} is larger than the remote file; cannot resume`);
        } else {
          startAt = usable;
        }
      }
      const progress = (p: { bytes: number; total?: number }) => {
        held = p.bytes;
        onProgress(p);
      };
      await client.download(remote, stdout ? stdout.stream() : local, { startAt: startAt || undefined, total, signal, rateLimit, onProgress: progress });
      return { bytes: total ?? (stdout ? stdout.written : ((await localFileSize(local)) ?? 0)) };
    },
  };
}

async function planDownloads(session: Session, args: string[], flags: GetFlags): Promise<Job[]> {
  const local = localArgument(args);
  const urls = local === undefined ? args : args.slice(0, -1);
  if (local === '-' && flags.continue) throw new UsageError('-c cannot resume stdout');
  const targets = urls.map((url) => parseFtpUrl(url, { tls: flags.tls }));
  const patterns = targets.map((target) => (flags.globoff ? null : splitPattern(target.path)));
  const several = targets.length > 1 || patterns.some((pattern) => pattern !== null);
  const folder = several && local !== '-' ? await localFolder(local ?? '.') : null;
  const jobs: Job[] = [];
  for (const [i, target] of targets.entries()) {
    try {
      const pattern = patterns[i];
      const files = pattern ? await matchRemote(session, target, pattern.dir, pattern.pattern) : [{ path: target.path, size: undefined }];
      for (const file of files) {
        const name = posix.basename(file.path);
        if (!name) throw new UsageError(`the URL names no file: ${urls[i]}`);
        const destination = local === '-' ? '-' : folder !== null ? join(folder, name) : await singleDestination(local, name);
        jobs.push(downloadJob(target, file.path, destination, file.size, flags));
      }
    } catch (error) {
      session.failures.record(error);
    }
  }
  return jobs;
}

export function registerGet(program: Command): void {
  transferOptions(
    connectionOptions(
      program
        .command('get <url...>')
        .usage('[options] <url...> [local]')
        .description('download files: one URL to [local] (a file or folder) or ./NAME; several URLs, or a wildcard (*, ?, [abc]) in the last segment, into the folder [local] or "."; [local] "-" is stdout'),
    ),
  ).action((args: string[], flags: GetFlags) => runTransfers(flags, { summaryToStderr: localArgument(args) === '-' }, (session) => planDownloads(session, args, flags)));
}
