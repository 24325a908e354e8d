/** The client commands of `ferry`: ls, get, put, cat, mkdir, rm, mv, mirror. */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { FtpClient } from '../client/client.js';
import type { RemoteFile } from '../client/list-parser.js';
import { mirror } from './mirror.js';
import { createProgressReporter } from './progress.js';
import { connect, exitCodeFor, parseFtpUrl, UsageError, type ConnectFlags, type RemoteTarget } from './remote.js';

/** Connects, runs `work`, closes, and exits with the right code. */
async function withClient(url: string, flags: ConnectFlags, work: (client: FtpClient, target: RemoteTarget) => Promise<void>): Promise<void> {
  let client: FtpClient | undefined;
  try {
    const target = parseFtpUrl(url, { tls: flags.tls });
    client = await connect(target, flags);
    await work(client, target);
    await client.close();
    process.exitCode = 0;
  } catch (error) {
    client?.close().catch(() => undefined);
    process.exitCode = exitCodeFor(error);
  }
}

function longLine(file: RemoteFile): string {
  const type = file.type === 'directory' ? 'd' : file.type === 'symlink' ? 'l' : '-';
  const when = file.modifiedAt ? file.modifiedAt.toISOString().replace('T', ' ').slice(0, 16) : '                ';
  return `${type} ${String(file.size ?? '').padStart(12)} ${when} ${file.name}${file.target ? ` -> ${file.target}` : ''}`;
}

async function localSize(path: string): Promise<number | null> {
  return fs.stat(path).then(
    (s) => (s.isFile() ? s.size : null),
    () => null,
  );
}

/** Relative to the login directory like the URL path, or absolute with a leading "/". */
function remotePathArgument(text: string): string {
  if (/[\r\n\0]/.test(text)) throw new UsageError('the path must not contain CR, LF or NUL');
  return text;
}

function connectionOptions(command: Command): Command {
  return command
    .option('--active', 'active mode: the server connects back (EPRT/PORT)')
    .option('--passive', 'passive mode (default): EPSV, then PASV')
    .option('--trust-pasv-address', 'connect to the address in a 227 reply even when it is not the server\'s (default: use the server\'s address, as curl does)')
    .option('--tls', 'explicit FTPS (AUTH TLS) for ftp:// URLs; ftps:// URLs use implicit TLS')
    .option('-k, --insecure', 'do not verify the server certificate')
    .option('-d, --debug', 'print the command/reply dialogue and data connections on stderr')
    .option('--timeout <seconds>', 'reply and connect timeout', '30');
}

export function registerClientCommands(program: Command): void {
  connectionOptions(program.command('ls <url>').description('list a remote directory'))
    .option('-l, --long', 'type, size, date and name')
    .action((url: string, flags: ConnectFlags & { long?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        for (const file of await client.list(target.path)) process.stdout.write(`${flags.long ? longLine(file) : file.name}\n`);
      }),
    );

  connectionOptions(program.command('get <url> [local]').description('download a file (to [local] or ./NAME)'))
    .option('-c, --continue', 'resume a partial local file')
    .action((url: string, local: string | undefined, flags: ConnectFlags & { continue?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const name = basename(target.path);
        if (!name) throw new UsageError('the URL names no file');
        let destination = local ?? name;
        if ((await fs.stat(destination).catch(() => null))?.isDirectory()) destination = join(destination, name);
        const total = await client.size(target.path);
        const have = flags.continue ? await localSize(destination) : null;
        const progress = createProgressReporter();
        if (have !== null && have === total) {
          progress.file(target.path, 'skipped').finish(have);
          return;
        }
        if (have !== null && have > total) throw new UsageError(`${destination} is larger than the remote file; cannot resume`);
        const file = progress.file(target.path, 'downloaded');
        await client.download(target.path, destination, { startAt: have ?? undefined, total, onProgress: (p) => file.update(p) });
        file.finish(total);
        progress.stop();
      }),
    );

  connectionOptions(program.command('put <local> <url>').description('upload a file (a URL ending in / keeps the local name)'))
    .option('-c, --continue', 'resume a partial remote file')
    .option('--append', 'append to the remote file (APPE)')
    .action((local: string, url: string, flags: ConnectFlags & { continue?: boolean; append?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const size = await localSize(local);
        if (size === null) throw Object.assign(new Error(`${local}: no such file`), { code: 'ENOENT' });
        const remote = target.path === '' || target.path.endsWith('/') ? target.path + basename(local) : target.path;
        const have = flags.continue ? await client.size(remote).catch(() => null) : null;
        const progress = createProgressReporter();
        if (have !== null && have === size) {
          progress.file(remote, 'skipped').finish(have);
          return;
        }
        const file = progress.file(remote, 'uploaded');
        await client.upload(local, remote, { append: flags.append, startAt: have !== null && have < size ? have : undefined, total: size, onProgress: (p) => file.update(p) });
        file.finish(size);
        progress.stop();
      }),
    );

  connectionOptions(program.command('cat <url>').description('print a remote file on stdout')).action((url: string, flags: ConnectFlags) =>
    withClient(url, flags, (client, target) => client.download(target.path, process.stdout)),
  );

  connectionOptions(program.command('mkdir <url>').description('create a remote directory'))
    .option('-p, --parents', 'create missing parents; no error if it exists')
    .action((url: string, flags: ConnectFlags & { parents?: boolean }) =>
      withClient(url, flags, (client, target) => client.mkdir(target.path, { recursive: flags.parents })),
    );

  connectionOptions(program.command('rm <url>').description('remove a remote file (or, with -r, a directory tree)'))
    .option('-r, --recursive', 'remove a directory and everything in it')
    .action((url: string, flags: ConnectFlags & { recursive?: boolean }) =>
      withClient(url, flags, (client, target) => (flags.recursive ? client.removeDir(target.path, { recursive: true }) : client.remove(target.path))),
    );

  connectionOptions(program.command('mv <url> <new-path>').description('rename a remote file or directory')).action(
    (url: string, newPath: string, flags: ConnectFlags) => withClient(url, flags, (client, target) => client.rename(target.path, remotePathArgument(newPath))),
  );

  connectionOptions(program.command('mirror <url> <local-dir>').description('download a remote tree (or upload a local one with --reverse)'))
    .option('-R, --reverse', 'upload <local-dir> to <url>')
    .option('-P, --parallel <n>', 'parallel connections (1-16)', '2')
    .option('-c, --continue', 'resume partial files and skip complete ones')
    .action((url: string, localDir: string, flags: ConnectFlags & { reverse?: boolean; parallel: string; continue?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const parallel = Number(flags.parallel);
        if (!Number.isInteger(parallel) || parallel < 1 || parallel > 16) throw new UsageError('--parallel: a whole number from 1 to 16');
        const progress = createProgressReporter();
        await mirror(client, target.path, localDir, {
          reverse: flags.reverse ?? false,
          parallel,
          resume: flags.continue ?? false,
          connect: () => connect(target, flags),
          progress,
        });
        progress.stop();
      }),
    );
}
