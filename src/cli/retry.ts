/**
 * --retries: which failures are worth another try, and how long to wait before it.
 *
 * Transient: the replies RFC 959 means as "try again" (421 service closing, 425 cannot
 * open the data connection, 426 transfer aborted, 450 file busy, 451 local error), a
 * connection that was reset or closed, and timeouts. Not transient: a refused login
 * (530), a missing or forbidden file (550, 553), TLS failures, usage errors, a
 * connection refused or a host that does not resolve (as curl, which retries those only
 * when asked), and local file errors.
 */
import { FtpClientError } from '../client/errors.js';
import { UsageError } from './remote.js';

const TRANSIENT_REPLIES = new Set([421, 425, 426, 450, 451]);
const TRANSIENT_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']);
const PERMANENT_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND']);

/** The longest wait between two tries, whatever the attempt. */
export const MAX_RETRY_DELAY_SECONDS = 60;

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isTransient(error: unknown): boolean {
  if (error instanceof FtpClientError) {
    if (error.code !== undefined) return TRANSIENT_REPLIES.has(error.code);
    if (error.kind === 'timeout') return true;
    if (error.kind !== 'network') return false;
    const cause = errnoOf(error.cause);
    return cause === undefined || !PERMANENT_ERRNO.has(cause);
  }
  const code = errnoOf(error);
  return code !== undefined && TRANSIENT_ERRNO.has(code);
}

/** Seconds before retry `attempt` (1, 2, ...): base, 2 x base, 4 x base, ..., at most MAX_RETRY_DELAY_SECONDS. */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
}

export interface RetryPolicy {
  retries: number;
  baseDelaySeconds: number;
}

/** --retries N and --retry-delay SECONDS, checked. */
export function retryPolicyOf(flags: { retries?: string; retryDelay?: string }): RetryPolicy {
  const retries = Number(flags.retries ?? '0');
  if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw new UsageError(`--retries: a whole number from 0 to 100, not ${flags.retries}`);
  const baseDelaySeconds = Number(flags.retryDelay ?? '1');
  if (!Number.isFinite(baseDelaySeconds) || baseDelaySeconds < 0 || baseDelaySeconds > MAX_RETRY_DELAY_SECONDS) {
    throw new UsageError(`--retry-delay: seconds from 0 to ${MAX_RETRY_DELAY_SECONDS}, not ${flags.retryDelay}`);
  }
  return { retries, baseDelaySeconds };
}
