/** `ferry ls URL`: list a remote directory. */
import type { Command } from 'commander';
import type { RemoteFile } from '../../client/list-parser.js';
import type { ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { withClient } from './with-client.js';

function longLine(file: RemoteFile): string {
  const type = file.type === 'directory' ? 'd' : file.type === 'symlink' ? 'l' : '-';
  const when = file.modifiedAt ? file.modifiedAt.toISOString().replace('T', ' ').slice(0, 16) : '                ';
  return `${type} ${String(file.size ?? '').padStart(12)} ${when} ${file.name}${file.target ? ` -> ${file.target}` : ''}`;
}

export function registerLs(program: Command): void {
  connectionOptions(program.command('ls <url>').description('list a remote directory'))
    .option('-l, --long', 'type, size, date and name')
    .action((url: string, flags: ConnectFlags & { long?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        for (const file of await client.list(target.path)) process.stdout.write(`${flags.long ? longLine(file) : file.name}\n`);
      }),
    );
}
