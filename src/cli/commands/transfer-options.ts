/** The options get and put share: retries, a rate limit, JSON summaries, no wildcards. */
import type { Command } from 'commander';
import { retryPolicyOf, type RetryPolicy } from '../retry.js';
import { parseRate } from '../units.js';

export interface TransferFlags {
  retries?: string;
  retryDelay?: string;
  limitRate?: string;
  json?: boolean;
  globoff?: boolean;
  continue?: boolean;
}

export interface TransferSettings {
  retry: RetryPolicy;
  /** Bytes per second. */
  rateLimit?: number;
  json: boolean;
}

export function transferOptions(command: Command): Command {
  return command
    .option('-c, --continue', 'resume partial files, skip complete ones')
    .option('--retries <n>', 'try a file again up to n times after a transient failure (421/425/426/450/451, connection lost, timeout), resuming it', '0')
    .option('--retry-delay <seconds>', 'wait before the first retry, doubled for each next one (at most 60 s)', '1')
    .option('--limit-rate <rate>', 'at most this many bytes per second, as curl: 500K, 2.5M, 1G (K = 1024)')
    .option('--json', 'one JSON object per file on stdout instead of the summary lines')
    .option('-g, --globoff', 'no wildcards: *, ? and [ are plain characters of the name');
}

/** The checked settings; usage errors for bad values. */
export function transferSettingsOf(flags: TransferFlags): TransferSettings {
  return {
    retry: retryPolicyOf(flags),
    rateLimit: flags.limitRate === undefined ? undefined : parseRate(flags.limitRate),
    json: flags.json ?? false,
  };
}
