/** The small remote file commands: cat, mkdir, rm, mv. */
import type { Command } from 'commander';
import { UsageError, type ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { withClient } from './with-client.js';

/** Relative to the login directory like the URL path, or absolute with a leading "/". */
function remotePathArgument(text: string): string {
  if (/[\r\n\0]/.test(text)) throw new UsageError('the path must not contain CR, LF or NUL');
  return text;
}

export function registerFileCommands(program: Command): void {
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
}
