/**
 * Keeps a flood from becoming a log flood: per key, the first event is logged at its
 * level and further ones at most once per interval (with how many were folded into
 * it); the rest go to debug.
 */
import type { Logger } from 'pino';

export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      this.logger.debug(fields, message);
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn(entry?.suppressed ? { ...fields, suppressed: entry.suppressed } : fields, message);
  }
}
