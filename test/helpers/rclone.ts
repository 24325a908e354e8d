/**
 * Running rclone against a test server through an on-the-fly FTP remote
 * (":ftp,host=...,port=...:path"), so no config file is read or written. rclone runs
 * with -vv --dump headers, so its stderr carries every control line it sent
 * ('FTP Tx: "CMD"') and received ('FTP Rx: "NNN text"').
 */
import { assertExitOk, findBinary, runProcess, type DialogueRun, type RunOptions } from './run-process.js';

export const RCLONE = findBinary('rclone');

/** The password in rclone's obscured form, as remotes take it (`rclone obscure`). */
export async function rcloneObscure(password: string): Promise<string> {
  const result = await runProcess(RCLONE!, ['obscure', password]);
  assertExitOk('rclone obscure', result);
  return result.stdout.toString('utf8').trim();
}

/** An on-the-fly FTP remote with these backend options; values must not contain "," or ":". */
export function rcloneFtpRemote(options: Record<string, string | number | boolean>): string {
  return `:ftp,${Object.entries(options)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}:`;
}

/** Matches one control line of the -vv --dump headers log; the password is logged as "PASS *****". */
const LOGGED_LINE = /FTP (Tx|Rx): (?:"(.*)"|(PASS \*+))$/;

/**
 * rclone with no config file, one try per operation and per low-level request (so a
 * failure is a failure, not a retry), and short network timeouts.
 */
export async function runRclone(args: readonly string[], options: RunOptions = {}): Promise<DialogueRun> {
  const result = await runProcess(
    RCLONE!,
    ['--config', '/dev/null', '-vv', '--dump', 'headers', '--retries', '1', '--low-level-retries', '1', '--contimeout', '5s', '--timeout', '10s', ...args],
    options,
  );
  const sent: string[] = [];
  const received: string[] = [];
  for (const line of result.stderr.split('\n')) {
    const match = LOGGED_LINE.exec(line);
    if (!match) continue;
    (match[1] === 'Tx' ? sent : received).push(match[2] ?? match[3]!);
  }
  return { ...result, sent, received };
}
