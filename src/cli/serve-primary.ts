/**
 * `ferry serve` with workers = N: the primary forks the workers, prints the ready line
 * once every one listens, and passes signals on (server/workers/primary.ts).
 */
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/schema.js';
import { Primary } from '../server/workers/primary.js';
import { readyLines } from './serve-ready.js';
import { handleSignals } from './serve-signals.js';
import type { ServedSites } from './serve-sites.js';
import type { TempSweeper } from '../storage/temp-sweeper.js';
import type { SiteUserSource } from './site-users.js';

/** The generated user's password, from the primary to its workers (so all take the same). */
export const GENERATED_PASSWORD_ENV = 'FERRY_GENERATED_PASSWORD';

export interface PrimaryServe {
  count: number;
  config: FerryConfig;
  logger: Logger;
  served: ServedSites;
  users: SiteUserSource;
  sweeper: TempSweeper | null;
  /** The config file and flags again, checked as a start checks them, and its sites built (which checks them too). */
  reload(): Promise<FerryConfig>;
  file?: string;
}

export async function servePrimary({ count, config, logger, served, users, sweeper, reload, file }: PrimaryServe): Promise<void> {
  const generated = users.generatedPassword;
  const primary = new Primary({
    count,
    config,
    logger,
    env: generated ? { [GENERATED_PASSWORD_ENV]: generated } : {},
    reload: async () => {
      try {
        return await reload();
      } catch (error) {
        logger.error({ code: 'FERRY_ERR_CONFIG', reason: (error as Error).message, file }, 'config reload failed in the primary; its limits stay');
        return null;
      }
    },
  });
  let running;
  try {
    running = await primary.start();
  } catch (error) {
    // The worker said why on stderr; its exit status (2 for a config error) is the server's.
    logger.error({ err: (error as Error).message }, 'the workers did not start');
    process.exit((error as { exitCode?: number }).exitCode ?? 1);
  }
  const lines = readyLines(config, { ...running.bound, admin: running.admin }, served, generated);
  lines.push(`  workers: ${count} processes (pids ${running.pids.join(', ')}), each with its slice of the passive ports`);
  handleSignals(logger, config, {
    stop: () => {
      sweeper?.stop();
      return primary.stop();
    },
    kill: () => primary.kill(),
    reload: () => primary.reload(),
  });
  process.stdout.write(lines.join('\n') + '\n');
}
