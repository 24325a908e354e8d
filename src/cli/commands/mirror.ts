/**
 * `ferry mirror`: lftp's argument order. `ferry mirror URL LOCALDIR` downloads,
 * `ferry mirror -R LOCALDIR URL` uploads; the older `-R URL LOCALDIR` still works (the
 * argument that is an ftp:// or ftps:// URL is the remote side).
 */
import type { Command } from 'commander';
import { mirror, type MirrorSettings } from '../mirror.js';
import { exitCodeFor, isUrl, UsageError, type ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { withClient } from './with-client.js';

interface MirrorFlags extends ConnectFlags {
  reverse?: boolean;
  parallel: string;
  continue?: boolean;
  delete?: boolean;
  onlyNewer?: boolean;
  dryRun?: boolean;
  include: string[];
  exclude: string[];
}

/** Which argument is the URL and which the local folder; a usage error when that is unclear. */
function mirrorEnds(first: string, second: string, reverse: boolean): { url: string; localDir: string } {
  if (isUrl(first) && !isUrl(second)) return { url: first, localDir: second };
  if (!isUrl(first) && isUrl(second)) {
    if (!reverse) throw new UsageError('the URL comes first when downloading (ferry mirror URL LOCALDIR); to upload use ferry mirror -R LOCALDIR URL');
    return { url: second, localDir: first };
  }
  throw new UsageError('mirror needs one ftp:// or ftps:// URL and one local folder');
}

function settingsOf(flags: MirrorFlags): MirrorSettings {
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 16) throw new UsageError('--parallel: a whole number from 1 to 16');
  return {
    reverse: flags.reverse ?? false,
    parallel,
    resume: flags.continue ?? false,
    onlyNewer: flags.onlyNewer ?? false,
    delete: flags.delete ?? false,
    dryRun: flags.dryRun ?? false,
    includes: flags.include,
    excludes: flags.exclude,
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerMirror(program: Command): void {
  connectionOptions(
    program
      .command('mirror <source> <target>')
      .description('download a remote tree (mirror URL LOCALDIR), or upload a local one (mirror -R LOCALDIR URL)'),
  )
    .option('-R, --reverse', 'upload: mirror -R LOCALDIR URL')
    .option('-P, --parallel <n>', 'parallel connections (1-16)', '2')
    .option('-c, --continue', 'resume partial files and skip complete ones')
    .option('-e, --delete', 'delete target files and folders that are not in the source')
    .option('-n, --only-newer', 'transfer only files whose source is newer (by size when a time is unknown)')
    .option('-I, --include <glob>', 'transfer only files whose relative path matches (repeatable; * within a folder, ** across)', collect, [])
    .option('-X, --exclude <glob>', 'leave out what matches, on both sides (repeatable; a trailing / matches folders only)', collect, [])
    .option('--dry-run', 'print what would be done, change nothing')
    .action(async (first: string, second: string, flags: MirrorFlags) => {
      let ends: { url: string; localDir: string };
      let settings: MirrorSettings;
      try {
        ends = mirrorEnds(first, second, flags.reverse ?? false);
        settings = settingsOf(flags);
      } catch (error) {
        process.exitCode = exitCodeFor(error);
        return;
      }
      await withClient(ends.url, flags, (client, target, signal) => mirror(client, target.path, ends.localDir, settings, signal));
    });
}
