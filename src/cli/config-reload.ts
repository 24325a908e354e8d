/**
 * A config reload (SIGHUP): read and check the file again, build its sites, hand them to
 * the running server, and log what changed and what waits for a restart. A file that
 * does not load (a syntax error, an unknown key, a failed start-up check) changes
 * nothing: the server keeps running as it was, and the log says why, naming the key.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.js';
import type { FerryConfig } from '../config/schema.js';
import type { FtpServer } from '../server/server.js';
import type { ServedSites } from './serve-sites.js';

export interface ReloadSteps {
  load(): Promise<FerryConfig>;
  build(config: FerryConfig): Promise<ServedSites>;
  server: Pick<FtpServer, 'reconfigure'>;
  logger: Logger;
  /** The config file, for the log (none: flags and embedded defaults only). */
  file?: string;
}

/** Resolves with the sites now served, or null when the reload was refused. */
export async function reloadConfig({ load, build, server, logger, file }: ReloadSteps): Promise<ServedSites | null> {
  let config: FerryConfig;
  let served: ServedSites;
  try {
    config = await load();
    served = await build(config);
  } catch (error) {
    const key = error instanceof ConfigError ? error.key : undefined;
    logger.error({ code: 'FERRY_ERR_CONFIG', reason: (error as Error).message, file, ...(key && { key }) }, 'config reload failed; keeping the running config');
    return null;
  }
  const { changed, needsRestart } = server.reconfigure({ config, authenticator: served.main.authenticator, ...served.main.storage, sites: served.sites });
  // The completion line last: whoever waits for it (an admin's script, a test) has the reload's other lines too.
  if (needsRestart.length > 0) logger.warn({ file, keys: needsRestart }, 'config reload: these keys apply at the next restart; until then they keep their running values');
  logger.info({ file, changed }, changed.length === 0 ? 'config reloaded: nothing changed' : 'config reloaded');
  return served;
}
