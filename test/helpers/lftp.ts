/**
 * Running lftp against a test server. lftp runs with -d, so its stderr carries the
 * control dialogue ("---> CMD", "<--- NNN text"); `cmd:fail-exit` makes any failing
 * command end the run non-zero.
 */
import { findBinary, runProcess, type DialogueRun, type RunOptions } from './run-process.js';
import { PASSWORD, USER } from './server.js';

export const LFTP = findBinary('lftp');

/** An lftp word: double-quoted, with backslash escapes for quotes and backslashes. */
export function lftpQuote(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Settings every run starts with: fail on any error, one retry, short timeouts, overwrite. */
export const LFTP_BASE_SETTINGS: readonly string[] = [
  'set cmd:fail-exit yes',
  'set net:max-retries 1',
  'set net:timeout 10',
  'set net:reconnect-interval-base 1',
  'set xfer:clobber on',
];

/** A data-connection mode: the lftp settings that choose it, and the command it must use. */
export interface LftpMode {
  name: string;
  settings: string[];
  /** The only data-connection command lftp may use. */
  command: RegExp;
}

export const LFTP_PASV: LftpMode = { name: 'passive (PASV)', settings: ['set ftp:passive-mode on', 'set ftp:prefer-epsv no'], command: /^PASV$/ };
export const LFTP_EPSV: LftpMode = { name: 'passive (EPSV)', settings: ['set ftp:passive-mode on', 'set ftp:prefer-epsv yes'], command: /^EPSV$/ };
export const LFTP_PORT: LftpMode = { name: 'active (PORT)', settings: ['set ftp:passive-mode off'], command: /^PORT 127,0,0,1,\d+,\d+$/ };

export interface LftpOptions extends RunOptions {
  /** More settings, after the base ones. */
  settings?: readonly string[];
  /** Default alice. */
  user?: string;
  /** Default "secret". */
  password?: string;
}

/** Runs `lftp --norc -d -c` with the settings, an `open` of `url`, then `commands`. */
export async function runLftp(url: string, commands: readonly string[], options: LftpOptions = {}): Promise<DialogueRun> {
  const script = [
    ...LFTP_BASE_SETTINGS,
    ...(options.settings ?? []),
    `open -u ${lftpQuote(`${options.user ?? USER},${options.password ?? PASSWORD}`)} ${lftpQuote(url)}`,
    ...commands,
  ].join('; ');
  const result = await runProcess(LFTP!, ['--norc', '-d', '-c', script], { cwd: options.cwd, env: options.env, timeoutMs: options.timeoutMs });
  const sent: string[] = [];
  const received: string[] = [];
  for (const line of result.stderr.split(/\r?\n/)) {
    if (line.startsWith('---> ')) sent.push(line.slice(5));
    else if (/^<--- \d{3}[ -]/.test(line)) received.push(line.slice(5));
  }
  return { ...result, sent, received };
}
