/** `ferry stat URL`: type, size, time and permissions of one remote file or directory. */
import type { Command } from 'commander';
import type { ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { remoteFileJson } from './remote-file-json.js';
import { withClient } from './with-client.js';

export function registerStat(program: Command): void {
  connectionOptions(program.command('stat <url>').description('show the type, size, time and permissions of a remote file or directory'))
    .option('--json', 'one JSON object: name, type, size, modified, permissions')
    .action((url: string, flags: ConnectFlags & { json?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const entry = await client.stat(target.path === '' ? '.' : target.path);
        if (flags.json) {
          process.stdout.write(`${remoteFileJson(entry)}\n`);
          return;
        }
        const lines = [
          ['name', entry.name],
          ['type', entry.type],
          ['size', entry.size],
          ['modified', entry.modifiedAt?.toISOString()],
          ['permissions', entry.permissions],
          ['target', entry.target],
        ].filter(([, value]) => value !== undefined);
        for (const [key, value] of lines) process.stdout.write(`${key}: ${value}\n`);
      }),
    );
}
