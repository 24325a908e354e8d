/**
 * Why a data connection could not be opened, in the words an admin needs: which mode,
 * which address and port, and whether the peer refused, never answered or could not be
 * reached. The reply text says it to the client; the same fields go into the log line.
 */
import { FtpError } from '../../errors.js';

export type DataConnectFailure = 'refused' | 'timed-out' | 'unreachable' | 'reset' | 'error';

export interface DataConnectDetails {
  mode: 'active' | 'passive';
  /** "10.1.0.2:40000": where the server connected (active) or listened (passive). */
  target: string;
  failure: DataConnectFailure;
}

const FAILURE_WORDS: Record<DataConnectFailure, string> = {
  refused: 'connection refused',
  'timed-out': 'connect timed out',
  unreachable: 'host unreachable',
  reset: 'connection reset',
  error: 'connect failed',
};

const ERRNO_FAILURES: Record<string, DataConnectFailure> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timed-out',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ECONNRESET: 'reset',
};

export class DataConnectError extends FtpError {
  constructor(
    readonly details: DataConnectDetails,
    message: string,
    options?: { cause?: unknown },
  ) {
    // A timeout has its own code: it points at a firewall that drops, not one that refuses.
    super(details.failure === 'timed-out' ? 'FERRY_ERR_DATA_TIMEOUT' : 'FERRY_ERR_DATA_CONNECT', message, options);
  }

  /** The active connect-back failed: "Can't open data connection to 10.1.0.2:40000: connect timed out." */
  static active(target: string, failure: DataConnectFailure, cause?: unknown): DataConnectError {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const words = FAILURE_WORDS[failure] + (failure === 'error' && code ? ` (${code})` : '');
    return new DataConnectError({ mode: 'active', target, failure }, `Can't open data connection to ${target}: ${words}.`, { cause });
  }

  static fromErrno(target: string, error: unknown): DataConnectError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return DataConnectError.active(target, ERRNO_FAILURES[code] ?? 'error', error);
  }
}
