/**
 * The client's one error type. `kind` says what went wrong in words scripts and the CLI
 * map to exit codes; `code` is the FTP reply code when a server reply caused it.
 */
import { redactCommand } from '../protocol/commands.js';

export type FtpClientErrorKind =
  /** 530 to USER or PASS: wrong user or password, or logins refused. */
  | 'login'
  /** 550, 553 or 450: the file or directory is not there, or not allowed. */
  | 'not-found'
  /** Any other negative reply (a 421 greeting, 425/426 on a data connection, a refused data command, ...). */
  | 'reply'
  /** Cannot connect, the connection was lost or refused (control or data). */
  | 'network'
  /** No reply, connection or data within `timeoutMs`; a reply that did not come in time closes the connection. */
  | 'timeout'
  /** TLS handshake or certificate failure, or the server refused AUTH TLS, PBSZ or PROT (`code` is its reply). */
  | 'tls'
  /** The server said something that is not FTP, or a reply that cannot be parsed (227, 229, SIZE, MDTM). */
  | 'protocol'
  /** Cancelled through an AbortSignal (a transfer sends ABOR first; the connection stays usable). */
  | 'aborted'
  /**
   * The call cannot be made: bad arguments (a path with CR or LF, PORT with an IPv6
   * address), or a server without what it needs: SIZE for size(), MDTM for
   * lastModified(), REST for `startAt` (`code` is the server's 500/502, absent when its
   * FEAT reply said so). Nothing that could change a file has been sent.
   */
  | 'usage';

/** Every failure of the client library; `message` names the command and quotes the server's reply. */
export class FtpClientError extends Error {
  constructor(
    /** What went wrong, for scripts to switch on (see `FtpClientErrorKind`). */
    readonly kind: FtpClientErrorKind,
    message: string,
    /** The FTP reply code when a server reply caused the error (530, 550, 502, ...). */
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
