/**
 * limits.reserved_descriptors: new control connections are refused while fewer than
 * `reserve` descriptors are free, so logged-in sessions can still open data
 * connections (and the server its files) when a flood of connections nears the
 * RLIMIT_NOFILE soft limit.
 *
 * Counting /proc/self/fd costs about 0.7 us per open descriptor (1 ms at 1,500), so it
 * is sampled, not read on every accept: at most every 50 ms, and never more than 5% of
 * the time (the interval grows with what a count costs). Between samples every
 * accepted connection counts as one more descriptor in use (closes are only seen by
 * the next sample), which errs on the safe side.
 *
 * A reserve that leaves fewer than MIN_USABLE_DESCRIPTORS below the soft limit (one at
 * or above the limit would refuse every connection, silently) is clamped to half the
 * limit, with a warning naming the key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';

const MIN_SAMPLE_INTERVAL_MS = 50;
/** The sampling interval is at least this many times what one count costs. */
const SAMPLE_COST_FACTOR = 20;
/** Fewest descriptors a reserve must leave for accepting connections before it is clamped. */
const MIN_USABLE_DESCRIPTORS = 64;

export interface DescriptorBudgetOptions {
  /** limits.reserved_descriptors; 0 turns the check off. */
  reserve: number;
  logger: Pick<Logger, 'warn'>;
  /** The soft RLIMIT_NOFILE (default: from /proc/self/limits), null when unknown. */
  readSoftLimit?: () => number | null;
  /** Descriptors open now (default: /proc/self/fd), null when unknown. */
  countOpen?: () => number | null;
}

export class DescriptorBudget {
  /** Null when the limit or the count is unknown (not Linux): nothing is checked. */
  private limit: number | null;
  private sampled = 0;
  private sampledAt = -Infinity;
  private acceptedSinceSample = 0;
  private intervalMs = MIN_SAMPLE_INTERVAL_MS;
  /** The reserve in force: the configured one, or half the limit when that left too little. */
  readonly reserve: number;
  private readonly countOpen: () => number | null;

  constructor(options: DescriptorBudgetOptions) {
    const { reserve, logger } = options;
    this.countOpen = options.countOpen ?? countOpenDescriptors;
    const limit = reserve > 0 ? (options.readSoftLimit ?? openFilesSoftLimit)() : null;
    this.limit = limit;
    this.reserve = limit !== null && limit - reserve < MIN_USABLE_DESCRIPTORS ? Math.min(reserve, Math.floor(limit / 2)) : reserve;
    if (this.reserve !== reserve) {
      logger.warn(
        { key: 'limits.reserved_descriptors', configured: reserve, softLimit: limit, reserve: this.reserve },
        'limits.reserved_descriptors leaves too few descriptors under the soft RLIMIT_NOFILE for new connections; using half the limit (raise ulimit -n or lower the key)',
      );
    }
  }

  /** The soft RLIMIT_NOFILE, or null when unknown (then nothing is checked). */
  get softLimit(): number | null {
    return this.limit;
  }

  /**
   * Called for each new connection (which already holds its descriptor): false when
   * accepting it would leave fewer than `reserve` descriptors free.
   */
  admit(): boolean {
    if (this.limit === null) return true;
    const now = performance.now();
    if (now - this.sampledAt >= this.intervalMs) this.sample(now);
    else this.acceptedSinceSample++;
    return this.limit === null || this.limit - this.inUse >= this.reserve;
  }

  /** Descriptors in use at the last sample plus connections accepted since. */
  get inUse(): number {
    return this.sampled + this.acceptedSinceSample;
  }

  private sample(now: number): void {
    const started = performance.now();
    const count = this.countOpen();
    if (count === null) {
      this.limit = null;
      return;
    }
    this.sampled = count;
    this.intervalMs = Math.max(MIN_SAMPLE_INTERVAL_MS, (performance.now() - started) * SAMPLE_COST_FACTOR);
    this.sampledAt = now;
    this.acceptedSinceSample = 0;
  }
}

function countOpenDescriptors(): number | null {
  try {
    // One entry is the descriptor readdir itself opened on /proc/self/fd.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}

/** "Max open files  1024  4096  files" from /proc/self/limits (Linux), else null. */
function openFilesSoftLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}
