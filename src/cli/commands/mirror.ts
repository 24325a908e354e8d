/** `ferry mirror`: download a remote tree, or upload a local one with -R. */
import type { Command } from 'commander';
import { mirror } from '../mirror.js';
import { createProgressReporter } from '../progress.js';
import { connect, UsageError, type ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { withClient } from './with-client.js';

export function registerMirror(program: Command): void {
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
