/**
 * What the client commands share: parsing ftp:// and ftps:// URLs, finding the password
 * (FERRY_PASSWORD, ~/.netrc, a prompt -- never the command line), connecting, and
 * mapping failures to exit codes scripts can rely on.
 */
import { FtpClient, type FtpClientOptions } from '../client/client.js';
import type { DataCommand } from '../client/data-connection.js';
import { FtpClientError } from '../client/errors.js';
import { findNetrc, readNetrc } from './netrc.js';
import { promptHidden } from './prompt.js';

/** Exit codes of the client commands (documented in the README). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  login: 3,
  notFound: 4,
  network: 5,
  tls: 6,
  aborted: 130,
} as const;

export interface RemoteTarget {
  host: string;
  port: number;
  user?: string;
  password?: string;
  secure: false | 'explicit' | 'implicit';
  /** Path relative to the login directory (as curl reads FTP URLs); "" for the login directory. */
  path: string;
}

export class UsageError extends Error {}

/** True for an ftp:// or ftps:// URL (the remote side of get, put and mirror). */
export const isUrl = (text: string): boolean => /^ftps?:\/\//i.test(text);

/** Percent-decoding of a URL part; a "%" not followed by two hex digits is a usage error, not a crash. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`a "%" in a URL starts an escape like %20: write a literal "%" as %25 (in ${text})`);
  }
}

/** A remote path from a URL or an argument: CR, LF or NUL would smuggle a second command. */
export function remotePath(text: string): string {
  if (/[\r\n\0]/.test(text)) throw new UsageError('the path must not contain CR, LF or NUL');
  return text;
}

export function parseFtpUrl(text: string, options: { tls?: boolean } = {}): RemoteTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${text} (expected ftp://[user@]host[:port]/path or ftps://…)`);
  }
  if (url.protocol !== 'ftp:' && url.protocol !== 'ftps:') throw new UsageError(`unsupported scheme ${url.protocol} (use ftp:// or ftps://)`);
  if (url.password) throw new UsageError('do not put the password in the URL: use FERRY_PASSWORD, ~/.netrc or the prompt');
  const implicit = url.protocol === 'ftps:';
  // FTP URLs have no query: a "?" belongs to the path (a wildcard, or a name).
  const path = remotePath(decoded(url.pathname + url.search).replace(/^\//, ''));
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : implicit ? 990 : 21,
    user: url.username ? decoded(url.username) : undefined,
    secure: implicit ? 'implicit' : options.tls ? 'explicit' : false,
    path,
  };
}

export interface ConnectFlags {
  active?: boolean;
  passive?: boolean;
  epsv?: boolean;
  pasv?: boolean;
  eprt?: boolean;
  port?: boolean;
  trustPasvAddress?: boolean;
  tls?: boolean;
  insecure?: boolean;
  debug?: boolean;
  timeout?: string;
}

/** User and password: URL user, then FERRY_PASSWORD, ~/.netrc, a prompt on a terminal; anonymous without a user. */
export async function resolveCredentials(target: RemoteTarget): Promise<{ user: string; password: string }> {
  const netrc = findNetrc(readNetrc(), target.host, target.user);
  const user = target.user ?? netrc?.login;
  if (user === undefined) return { user: 'anonymous', password: 'anonymous@' };
  const fromEnv = process.env.FERRY_PASSWORD;
  if (fromEnv !== undefined) return { user, password: fromEnv };
  if (netrc?.password !== undefined) return { user, password: netrc.password };
  if (process.stdin.isTTY) return { user, password: await promptHidden(`Password for ${user}@${target.host}: `) };
  throw new UsageError(`no password for ${user}@${target.host}: set FERRY_PASSWORD or add it to ~/.netrc`);
}

/** --passive/--active pick a mode with fallback; --epsv/--pasv/--eprt/--port one command alone. */
export function dataModeOf(flags: ConnectFlags): Pick<FtpClientOptions, 'dataMode' | 'dataCommand'> {
  const chosen = (['passive', 'active', 'epsv', 'pasv', 'eprt', 'port'] as const).filter((flag) => flags[flag]);
  if (chosen.length > 1) throw new UsageError(`choose one data mode, not ${chosen.map((flag) => `--${flag}`).join(' and ')}`);
  const flag = chosen[0] ?? 'passive';
  if (flag === 'passive' || flag === 'active') return { dataMode: flag };
  return { dataCommand: flag.toUpperCase() as DataCommand };
}

/** Connects and logs in; `signal` (Ctrl-C) aborts the connect and, later, every transfer. */
export async function connect(target: RemoteTarget, flags: ConnectFlags, signal?: AbortSignal): Promise<FtpClient> {
  const dataMode = dataModeOf(flags);
  const { user, password } = await resolveCredentials(target);
  const timeoutSeconds = flags.timeout === undefined ? 30 : Number(flags.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout: not a number of seconds: ${flags.timeout}`);
  const options: FtpClientOptions = {
    host: target.host,
    port: target.port,
    user,
    password,
    secure: target.secure,
    rejectUnauthorized: !flags.insecure,
    ...dataMode,
    trustPasvAddress: flags.trustPasvAddress,
    timeoutMs: timeoutSeconds * 1000,
    trace: flags.debug ? (line) => process.stderr.write(line + '\n') : undefined,
    signal,
  };
  return FtpClient.connect(options);
}

/** Prints an error and returns the exit code for it. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`ferry: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof FtpClientError) {
    process.stderr.write(`ferry: ${error.message}\n`);
    switch (error.kind) {
      case 'usage':
        return EXIT.usage;
      case 'login':
        return EXIT.login;
      case 'not-found':
        return EXIT.notFound;
      case 'network':
      case 'timeout':
        return EXIT.network;
      case 'tls':
        return EXIT.tls;
      case 'aborted':
        return EXIT.aborted;
      default:
        return EXIT.failure;
    }
  }
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(`ferry: ${(error as Error).message}\n`);
  return code === 'ENOENT' ? EXIT.notFound : EXIT.failure;
}
