/**
 * Running GNU Wget against a test server. wget runs with -d, so its stderr carries the
 * control dialogue ("--> CMD", then the reply lines as received) and, for FTPS, one line
 * per protected data connection saying whether it resumed the control connection's TLS
 * session or fell back to a new one.
 */
import { findBinary, runProcess, type DialogueRun, type RunOptions } from './run-process.js';
import { PASSWORD, USER } from './server.js';

export const WGET = findBinary('wget');

export interface WgetRun extends DialogueRun {
  /** Data connections wget secured by resuming the control connection's TLS session. */
  resumedDataConnections: number;
  /** Data connections whose resumption the server refused, so wget tried a new session. */
  freshDataConnections: number;
}

export interface WgetOptions extends RunOptions {
  /** Default alice. */
  user?: string;
  /** Default "secret". */
  password?: string;
  /** --no-check-certificate (the test certificate is self-signed). */
  insecure?: boolean;
}

/** wget with -d, no wgetrc, a single try (a failure is not retried away) and short network timeouts. */
export async function runWget(args: readonly string[], options: WgetOptions = {}): Promise<WgetRun> {
  const result = await runProcess(
    WGET!,
    [
      '--no-config',
      '-d',
      '--tries=1',
      '--timeout=10',
      ...(options.insecure ? ['--no-check-certificate'] : []),
      `--user=${options.user ?? USER}`,
      `--password=${options.password ?? PASSWORD}`,
      ...args,
    ],
    { cwd: options.cwd, env: options.env, timeoutMs: options.timeoutMs },
  );
  const lines = result.stderr.split(/\r?\n/);
  const count = (text: string) => lines.filter((line) => line === text).length;
  return {
    ...result,
    sent: lines.filter((line) => line.startsWith('--> ')).map((line) => line.slice(4)),
    received: lines.filter((line) => /^\d{3}[ -]/.test(line)),
    resumedDataConnections: count('Resuming SSL session in data connection.'),
    freshDataConnections: count('Server does not want to resume the SSL session. Trying with a new one.'),
  };
}
