/**
 * `ferry put LOCAL... URL`: upload files. A URL ending in "/" keeps the local names (and
 * is required for several files); a wildcard in a source's last segment the shell left
 * alone ("c*.bin") is expanded here; "-" uploads stdin and needs a remote name.
 */
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parseFtpUrl, UsageError, type ConnectFlags, type RemoteTarget } from '../remote.js';
import { matchNames, splitPattern } from '../wildcards.js';
import { connectionOptions } from './connection-options.js';
import { transferOptions, type TransferFlags } from './transfer-options.js';
import { runTransfers, type Job, type Session } from './transfers.js';

type PutFlags = ConnectFlags & TransferFlags & { append?: boolean };

interface LocalFile {
  path: string;
  size: number;
}

function noSuchFile(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}

/** The regular files one source argument names: itself, or the matches of its wildcard. */
async function expandSource(source: string, globoff: boolean): Promise<LocalFile[]> {
  const stat = await fs.stat(source).catch(() => null);
  if (stat?.isDirectory()) throw new UsageError(`${source} is a directory (to upload a tree, use ferry mirror -R)`);
  if (stat?.isFile()) return [{ path: source, size: stat.size }];
  if (stat) throw new UsageError(`${source} is not a regular file`);
  const split = globoff ? null : splitPattern(source);
  if (!split) throw noSuchFile(`${source}: no such file`);
  const names = matchNames(split.pattern, await fs.readdir(split.dir || '.').catch(() => []));
  const files: LocalFile[] = [];
  for (const name of names) {
    const path = split.dir + name;
    const match = await fs.stat(path).catch(() => null);
    if (match?.isFile()) files.push({ path, size: match.size });
  }
  if (files.length === 0) throw noSuchFile(`no local file matches ${source}`);
  return files;
}

function uploadJob(target: RemoteTarget, remote: string, file: LocalFile, flags: PutFlags): Job {
  /** Leading bytes of the remote file known to be this file's: with -c what was there, then what was sent. */
  let held = 0;
  return {
    target,
    direction: 'upload',
    remote,
    local: file.path,
    size: file.size,
    resumable: !flags.append,
    // An append that moved bytes cannot be resumed: what arrived cannot be told from what was there.
    retryable: () => !flags.append || held === 0,
    async run({ client, retry, signal, rateLimit, onProgress }) {
      const progress = (p: { bytes: number; total?: number }) => {
        held = p.bytes;
        onProgress(p);
      };
      if (flags.append) {
        await client.upload(file.path, remote, { append: true, total: file.size, signal, rateLimit, onProgress: progress });
        return { bytes: file.size };
      }
      // A retry continues where the server's copy ends when the server can (REST), but
      // only over bytes this run sent (or, with -c, found there): a try that failed before
      // the STOR was accepted leaves a stale remote file that must not be taken as ours.
      const remoteHas = flags.continue || (retry > 0 && client.canResume) ? await client.size(remote).catch(() => null) : null;
      if (retry === 0) held = remoteHas ?? 0;
      const have = remoteHas === null ? null : Math.min(remoteHas, held);
      if (have === file.size) return { bytes: have, skipped: retry === 0 };
      const startAt = have !== null && have < file.size && have > 0 ? have : undefined;
      await client.upload(file.path, remote, { startAt, total: file.size, signal, rateLimit, onProgress: progress });
      return { bytes: file.size };
    },
  };
}

function stdinJob(target: RemoteTarget, flags: PutFlags): Job {
  let moved = 0;
  return {
    target,
    direction: 'upload',
    remote: target.path,
    local: '-',
    resumable: false,
    // Once read, stdin cannot be read again.
    retryable: () => moved === 0 && !process.stdin.destroyed,
    async run({ client, signal, rateLimit, onProgress }) {
      await client.upload(process.stdin, target.path, {
        append: flags.append,
        signal,
        rateLimit,
        onProgress: (p) => {
          moved = p.bytes;
          onProgress(p);
        },
      });
      return { bytes: moved };
    },
  };
}

async function planUploads(session: Session, args: string[], flags: PutFlags): Promise<Job[]> {
  if (args.length < 2) throw new UsageError('put needs at least one local file and a URL: ferry put LOCAL... URL');
  const url = args[args.length - 1]!;
  const sources = args.slice(0, -1);
  const target = parseFtpUrl(url, { tls: flags.tls });
  if (flags.append && flags.continue) throw new UsageError('-c and --append do not go together (an append always adds the whole file)');
  const intoFolder = target.path === '' || target.path.endsWith('/');
  if (sources.includes('-')) {
    if (sources.length > 1) throw new UsageError('"-" (stdin) cannot be combined with other files');
    if (intoFolder) throw new UsageError(`stdin has no name: give one, as in ferry put - ${url}NAME`);
    if (flags.continue) throw new UsageError('-c cannot resume stdin');
    return [stdinJob(target, flags)];
  }
  const wildcard = async (source: string) => !flags.globoff && splitPattern(source) !== null && !(await fs.stat(source).catch(() => null));
  const several = sources.length > 1 || (await wildcard(sources[0]!));
  if (several && !intoFolder) throw new UsageError(`several files need a URL that ends in "/": ${url}/`);
  const jobs: Job[] = [];
  for (const source of sources) {
    try {
      for (const file of await expandSource(source, flags.globoff ?? false)) {
        jobs.push(uploadJob(target, intoFolder ? target.path + basename(file.path) : target.path, file, flags));
      }
    } catch (error) {
      session.failures.record(error);
    }
  }
  return jobs;
}

export function registerPut(program: Command): void {
  transferOptions(
    connectionOptions(
      program
        .command('put <local...>')
        .usage('[options] <local...> <url>')
        .description('upload files (a URL ending in / keeps the local names, and is needed for several); wildcards in a local name are expanded; "-" uploads stdin to URL/NAME'),
    ),
  )
    .option('--append', 'append to the remote file (APPE)')
    .action((args: string[], flags: PutFlags) => runTransfers(flags, {}, (session) => planUploads(session, args, flags)));
}
