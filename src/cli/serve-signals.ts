/** How `ferry serve` answers signals: one process, a worker, or the primary of several. */
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/schema.js';

export interface Lifecycle {
  /** Graceful stop (shutdown_grace for running transfers). */
  stop(): Promise<void>;
  /** A second signal during the stop: end now. */
  kill(): void;
  reload(): Promise<void>;
}

/**
 * SIGTERM/SIGINT: a graceful stop, then exit 0; a second signal exits at once. SIGHUP:
 * a reload. Returns the stop, for a stop asked otherwise (`quietly`: a repeat is no
 * second signal, since a Ctrl-C reaches a worker both directly and from the primary).
 */
export function handleSignals(logger: Logger, config: FerryConfig, lifecycle: Lifecycle): (signal: string, quietly?: boolean) => void {
  let stopping = false;
  const stop = (signal: string, quietly = false) => {
    if (stopping) {
      if (quietly) return;
      logger.warn({ signal }, 'second signal: exiting now');
      lifecycle.kill();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdown_grace }, 'shutting down');
    void lifecycle.stop().then(() => process.exit(0));
  };
  process.on('SIGHUP', () => void lifecycle.reload());
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return stop;
}
