/** `ferry put LOCAL URL`: upload a file. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { createProgressReporter } from '../progress.js';
import type { ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { localFileSize } from './local-size.js';
import { withClient } from './with-client.js';

export function registerPut(program: Command): void {
  connectionOptions(program.command('put <local> <url>').description('upload a file (a URL ending in / keeps the local name)'))
    .option('-c, --continue', 'resume a partial remote file')
    .option('--append', 'append to the remote file (APPE)')
    .action((local: string, url: string, flags: ConnectFlags & { continue?: boolean; append?: boolean }) =>
      withClient(url, flags, async (client, target) => {
        const size = await localFileSize(local);
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
}
