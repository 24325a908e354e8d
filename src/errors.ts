/**
 * The one error catalogue. Each failure has a stable string code and the FTP reply it
 * maps to, so storage, auth and data-channel code say *what* went wrong and the
 * session turns it into the right reply without guessing.
 */
import { Reply } from './protocol/replies.js';

export const ERRORS = {
  FERRY_ERR_NOT_FOUND: { reply: Reply.FileNotFound, message: 'No such file or directory.' },
  FERRY_ERR_PERMISSION: { reply: Reply.FileNotFound, message: 'Permission denied.' },
  FERRY_ERR_EXISTS: { reply: Reply.FileNotFound, message: 'File exists.' },
  FERRY_ERR_NOT_A_DIRECTORY: { reply: Reply.FileNotFound, message: 'Not a directory.' },
  FERRY_ERR_IS_A_DIRECTORY: { reply: Reply.FileNotFound, message: 'Is a directory.' },
  FERRY_ERR_NOT_EMPTY: { reply: Reply.FileNotFound, message: 'Directory not empty.' },
  FERRY_ERR_NO_SPACE: { reply: Reply.InsufficientStorage, message: 'Insufficient storage space.' },
  /** The user's quota_bytes or quota_files (see server/limits). */
  FERRY_ERR_QUOTA: { reply: Reply.ExceededStorage, message: 'Quota exceeded.' },
  FERRY_ERR_BAD_NAME: { reply: Reply.FileNameNotAllowed, message: 'File name not allowed.' },
  /** The argument's bytes are not text in the session's charset (see charset.ts). */
  FERRY_ERR_NAME_CHARSET: { reply: Reply.FileNameNotAllowed, message: 'File name cannot be represented in the current charset.' },
  FERRY_ERR_STORAGE: { reply: Reply.LocalError, message: 'Local error in processing.' },
  FERRY_ERR_BAD_RESTART: { reply: Reply.InvalidRestartPosition, message: 'Restart position is beyond the end of the file.' },
  FERRY_ERR_GLOB_TOO_COMPLEX: { reply: Reply.ArgumentSyntaxError, message: 'Wildcard pattern too long or with too many wildcards.' },
  FERRY_ERR_UNSUPPORTED: { reply: Reply.ParameterNotImplemented, message: 'Not supported by this storage.' },
  FERRY_ERR_NO_PASSIVE_PORT: { reply: Reply.CannotOpenData, message: 'No passive port available; try again later.' },
  FERRY_ERR_DATA_CONNECT: { reply: Reply.CannotOpenData, message: "Can't open data connection." },
  /** An active connect-back that never completed, or a passive port the client did not connect to in time. */
  FERRY_ERR_DATA_TIMEOUT: { reply: Reply.CannotOpenData, message: "Can't open data connection: timed out." },
  FERRY_ERR_DATA_ABORTED: { reply: Reply.TransferAborted, message: 'Connection closed; transfer aborted.' },
  /** No byte moved on the data connection for timeouts.data_idle. */
  FERRY_ERR_DATA_IDLE: { reply: Reply.TransferAborted, message: 'Data connection timed out; transfer aborted.' },
  FERRY_ERR_DATA_RESET: { reply: Reply.TransferAborted, message: 'Data connection reset by peer; transfer aborted.' },
  /** ABOR, or the control connection closed, while a transfer ran. */
  FERRY_ERR_ABORTED: { reply: Reply.TransferAborted, message: 'Transfer aborted.' },
  /** A passive data connection from an address other than the control connection's (connection theft); refused, never answered. */
  FERRY_ERR_DATA_THEFT: { reply: Reply.CannotOpenData, message: "Can't open data connection." },
  /** PORT/EPRT naming a third party or a privileged port (FTP bounce, RFC 2577). */
  FERRY_ERR_BOUNCE: { reply: Reply.ParameterNotImplemented, message: 'Refusing to connect to that address.' },
  FERRY_ERR_UPLOAD_TRUNCATED: {
    reply: Reply.TransferAborted,
    message: 'Data connection closed without a clean end of file; upload discarded.',
  },
  // Logins refused. The client is told "Login incorrect." either way; only the log says which.
  FERRY_ERR_UNKNOWN_USER: { reply: Reply.NotLoggedIn, message: 'Login incorrect.' },
  FERRY_ERR_BAD_PASSWORD: { reply: Reply.NotLoggedIn, message: 'Login incorrect.' },
  FERRY_ERR_TOO_MANY_FAILURES: { reply: Reply.ServiceNotAvailable, message: 'Too many failed logins; closing control connection.' },
  // Commands refused by the site's policies (policies.ts).
  FERRY_ERR_NOT_LOGGED_IN: { reply: Reply.NotLoggedIn, message: 'Please login with USER and PASS.' },
  FERRY_ERR_NOT_AVAILABLE: { reply: Reply.NotImplemented, message: 'Not available here.' },
  FERRY_ERR_SYNTAX: { reply: Reply.ArgumentSyntaxError, message: 'Syntax error in parameters or arguments.' },
  FERRY_ERR_TLS_REQUIRED: {
    reply: Reply.NotLoggedIn,
    message: 'TLS required: send AUTH TLS before logging in (your password would travel in clear text).',
  },
  FERRY_ERR_PROTECTION_REQUIRED: { reply: Reply.DataProtectionRequired, message: 'Data connections must be encrypted: send PBSZ 0 and PROT P.' },
  // Connections refused at accept, and logins refused for abuse (421, then the socket is destroyed).
  FERRY_ERR_SHUTTING_DOWN: { reply: Reply.ServiceNotAvailable, message: 'Server shutting down.' },
  FERRY_ERR_NO_DESCRIPTORS: { reply: Reply.ServiceNotAvailable, message: 'Server busy; try again later.' },
  FERRY_ERR_BANNED: { reply: Reply.ServiceNotAvailable, message: 'Too many failed logins from your address; try again later.' },
  FERRY_ERR_LOGIN_FLOOD: { reply: Reply.ServiceNotAvailable, message: 'Too many logins in progress from your address; try again later.' },
  FERRY_ERR_CONNECTION_RATE: { reply: Reply.ServiceNotAvailable, message: 'Too many connections from your address; slow down.' },
  FERRY_ERR_TOO_MANY_CLIENTS: { reply: Reply.ServiceNotAvailable, message: 'Too many users connected; try again later.' },
  FERRY_ERR_TOO_MANY_PER_ADDRESS: { reply: Reply.ServiceNotAvailable, message: 'Too many connections from your address.' },
  /** The user's max_sessions, checked once the password is right. */
  FERRY_ERR_TOO_MANY_SESSIONS: { reply: Reply.ServiceNotAvailable, message: 'Too many sessions for this user; try again later.' },
  FERRY_ERR_TLS_REUSE: {
    reply: Reply.DataTlsRefused,
    message: 'TLS session of the data connection must resume the control connection\'s session (session reuse required).',
  },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class FtpError extends Error {
  readonly reply: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FtpError';
    this.reply = ERRORS[code].reply;
  }
}

/** Maps a Node.js system error (errno code) to the catalogue. */
export function fromSystemError(error: unknown): FtpError {
  if (error instanceof FtpError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const mapped: ErrorCode =
    code === 'ENOENT' || code === 'ELOOP'
      ? 'FERRY_ERR_NOT_FOUND'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'FERRY_ERR_PERMISSION'
        : code === 'EEXIST'
          ? 'FERRY_ERR_EXISTS'
          : code === 'ENOTDIR'
            ? 'FERRY_ERR_NOT_A_DIRECTORY'
            : code === 'EISDIR'
              ? 'FERRY_ERR_IS_A_DIRECTORY'
              : code === 'ENOTEMPTY'
                ? 'FERRY_ERR_NOT_EMPTY'
                : code === 'ENOSPC' || code === 'EDQUOT'
                  ? 'FERRY_ERR_NO_SPACE'
                  : code === 'ENAMETOOLONG' || code === 'EINVAL'
                    ? 'FERRY_ERR_BAD_NAME'
                    : 'FERRY_ERR_STORAGE';
  return new FtpError(mapped, undefined, { cause: error });
}

/** Runs `fn`, turning what it throws into an FtpError with `mapError`. */
export async function mapErrors<T>(fn: () => Promise<T>, mapError: (error: unknown) => FtpError): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw mapError(error);
  }
}

/** Runs `fn`, turning a Node.js system error it throws into its FtpError. */
export function mapSystemErrors<T>(fn: () => Promise<T>): Promise<T> {
  return mapErrors(fn, fromSystemError);
}
