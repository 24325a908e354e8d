/** The small remote file commands: cat, mkdir, rm (several URLs, wildcards), mv. */
import type { Command } from 'commander';
import type { FtpClient } from '../../client/client.js';
import { parseFtpUrl, remotePath, type ConnectFlags } from '../remote.js';
import { matchEntries, splitPattern } from '../wildcards.js';
import { connectionOptions } from './connection-options.js';
import { Connections } from './connections.js';
import { Failures } from './failures.js';
import { withClient } from './with-client.js';

type RmFlags = ConnectFlags & { recursive?: boolean; globoff?: boolean };

/** Removes what one URL names: a path, or the matches of a wildcard in its last segment. */
async function removeTarget(client: FtpClient, path: string, flags: RmFlags): Promise<void> {
  const split = flags.globoff ? null : splitPattern(path);
  if (!split) {
    await (flags.recursive ? client.removeDir(path, { recursive: true }) : client.remove(path));
    return;
  }
  for (const entry of matchEntries(await client.list(split.dir), split)) {
    // Without -r a matching directory gets a DELE too, and the server's refusal says why.
    if (flags.recursive && entry.type === 'directory') await client.removeDir(split.dir + entry.name, { recursive: true });
    else await client.remove(split.dir + entry.name);
  }
}

/** Each URL in turn over one connection per server; a failure is printed and the next URL still runs. */
async function removeAll(urls: string[], flags: RmFlags): Promise<void> {
  const failures = new Failures();
  const connections = new Connections(flags);
  try {
    const targets = urls.map((url) => parseFtpUrl(url, { tls: flags.tls }));
    for (const target of targets) {
      try {
        await removeTarget(await connections.get(target), target.path, flags);
      } catch (error) {
        failures.record(error);
      }
    }
  } catch (error) {
    failures.last(error);
  } finally {
    await connections.closeAll();
    process.exitCode = failures.code;
  }
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

  connectionOptions(program.command('rm <url...>').description('remove remote files (a wildcard in the last segment removes the matches; -r: directory trees)'))
    .option('-r, --recursive', 'remove directories and everything in them')
    .option('-g, --globoff', 'no wildcards: *, ? and [ are plain characters of the name')
    .action((urls: string[], flags: RmFlags) => removeAll(urls, flags));

  connectionOptions(program.command('mv <url> <new-path>').description('rename a remote file or directory')).action(
    (url: string, newPath: string, flags: ConnectFlags) => withClient(url, flags, (client, target) => client.rename(target.path, remotePath(newPath))),
  );
}
