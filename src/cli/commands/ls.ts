/** `ferry ls URL`: list a remote directory, or show one file as curl and lftp do. */
import type { Command } from 'commander';
import type { FtpClient } from '../../client/client.js';
import { FtpClientError } from '../../client/errors.js';
import type { RemoteFile } from '../../client/list-parser.js';
import type { ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { remoteFileJson } from './remote-file-json.js';
import { withClient } from './with-client.js';

function longLine(file: RemoteFile): string {
  const type = file.type === 'directory' ? 'd' : file.type === 'symlink' ? 'l' : '-';
  const when = file.modifiedAt ? file.modifiedAt.toISOString().replace('T', ' ').slice(0, 16) : '                ';
  return `${type} ${String(file.size ?? '').padStart(12)} ${when} ${file.name}${file.target ? ` -> ${file.target}` : ''}`;
}

/**
 * The directory's entries; a path that names a file (MLSD answers 501 or 550 for one)
 * lists that file alone. A path ending in "/" is always a directory.
 */
async function entriesAt(client: FtpClient, path: string): Promise<RemoteFile[]> {
  try {
    return await client.list(path);
  } catch (error) {
    const notADirectory = error instanceof FtpClientError && (error.code === 501 || error.code === 550);
    if (!notADirectory || path === '' || path.endsWith('/')) throw error;
    const entry = await client.stat(path).catch(() => null);
    if (entry === null || entry.type === 'directory') throw error;
    return [entry];
  }
}

export function registerLs(program: Command): void {
  connectionOptions(program.command('ls <url>').description('list a remote directory (or show one file)'))
    .option('-l, --long', 'type, size, date and name')
    .option('--json', 'one JSON object per entry: name, type, size, modified, permissions')
    .action((url: string, flags: ConnectFlags & { long?: boolean; json?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        for (const file of await entriesAt(client, target.path)) {
          process.stdout.write(`${flags.json ? remoteFileJson(file) : flags.long ? longLine(file) : file.name}\n`);
        }
      }),
    );
}
