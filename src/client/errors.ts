/**
 * The client's one error type. `kind` says what went wrong in words scripts and the CLI
 * map to exit codes; `code` is the FTP reply code when a server reply caused it.
 */
import { redactCommand } from '../protocol/commands.js';

export type FtpClientErrorKind =
  | 'login' // 530 on USER/PASS, or a refused login
  | 'not-found' // 550 and friends: the file or directory is not there / not allowed
  | 'reply' // any other negative reply
  | 'network' // cannot connect, connection lost
  | 'timeout'
  | 'tls' // handshake or certificate failure
  | 'protocol' // the server said something that is not FTP
  | 'aborted' // cancelled through an AbortSignal
  | 'usage'; // bad arguments (a path with CR/LF, ...)

export class FtpClientError extends Error {
  constructor(
    readonly kind: FtpClientErrorKind,
    message: string,
    readonly code?: number,
    options?: { cause?: unknown; command?: string },
  ) {
    super(message, options);
    this.name = 'FtpClientError';
    this.command = options?.command;
  }

  /** The command that drew the reply, with a password (PASS, ACCT) masked. */
  readonly command: string | undefined;
}

/** Classifies a negative reply to a command. */
export function replyError(command: string, code: number, text: string): FtpClientError {
  const verb = command.split(' ')[0]!.toUpperCase();
  const shown = redactCommand(command);
  const kind = code === 530 && (verb === 'USER' || verb === 'PASS') ? 'login' : code === 550 || code === 553 || code === 450 ? 'not-found' : 'reply';
  return new FtpClientError(kind, `${shown}: ${code} ${text}`, code, { command: shown });
}

/** Wraps a socket/TLS failure. */
export function networkError(error: unknown, what: string): FtpClientError {
  if (error instanceof FtpClientError) return error;
  const err = error as NodeJS.ErrnoException;
  const tls = typeof err.code === 'string' && (err.code.startsWith('ERR_SSL') || err.code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code));
  return new FtpClientError(tls ? 'tls' : 'network', `${what}: ${err.message}`, undefined, { cause: error });
}
