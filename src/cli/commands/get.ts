/** `ferry get URL [local]`: download a file. */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { createProgressReporter } from '../progress.js';
import { UsageError, type ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { localFileSize } from './local-size.js';
import { withClient } from './with-client.js';

export function registerGet(program: Command): void {
  connectionOptions(program.command('get <url> [local]').description('download a file (to [local] or ./NAME)'))
    .option('-c, --continue', 'resume a partial local file')
    .action((url: string, local: string | undefined, flags: ConnectFlags & { continue?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const name = basename(target.path);
        if (!name) throw new UsageError('the URL names no file');
        let destination = local ?? name;
        if ((await fs.stat(destination).catch(() => null))?.isDirectory()) destination = join(destination, name);
        const total = await client.size(target.path);
        const have = flags.continue ? await localFileSize(destination) : null;
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
}
