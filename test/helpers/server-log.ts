/**
 * An in-process server's JSON log, kept in memory (pass `destination` as
 * ServerOptions.logTo, with log.level "debug"): the server's own account of a client
 * run, e.g. which TLS version each control connection negotiated and how each data
 * connection ended.
 */

export interface LogEntry {
  msg: string;
  /** The control connection's id, on every line a session logs. */
  session?: string;
  [field: string]: unknown;
}

/** One data connection's transfer, as the server logs it when it ends. */
export interface TransferEntry {
  session: string;
  verb: string;
  path: string;
  bytes: number;
  outcome: 'complete' | 'aborted' | 'failed';
}

/** The JSON log lines with message `msg` in a child process's stderr (`ferry serve` with log.format "json"). */
export function logLinesIn(stderr: string, msg: string): LogEntry[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogEntry)
    .filter((line) => line.msg === msg);
}

export class ServerLog {
  readonly entries: LogEntry[] = [];

  /** A pino destination: each write is one or more JSON lines. */
  readonly destination = {
    write: (text: string): void => {
      for (const line of text.split('\n')) if (line !== '') this.entries.push(JSON.parse(line) as LogEntry);
    },
  };

  /** Where the entries end now: pass it as `from` to look only at what comes next. */
  mark(): number {
    return this.entries.length;
  }

  /** Transfers (RETR, STOR, LIST, MLSD, ...) that ended, in order. */
  transfers(from = 0): TransferEntry[] {
    return this.entries.slice(from).filter((entry) => entry.msg === 'transfer') as unknown as TransferEntry[];
  }

  /** The TLS version each control connection negotiated (e.g. "TLSv1.3"), in order. */
  controlTlsVersions(from = 0): string[] {
    return this.entries
      .slice(from)
      .filter((entry) => entry.msg === 'control connection secured')
      .map((entry) => String(entry.protocol));
  }
}
