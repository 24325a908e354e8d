/**
 * Running curl against a test server. curl runs with --verbose, so its stderr carries
 * the control dialogue ("> CMD", "< NNN text"); tests assert on the commands curl chose
 * and the replies it got.
 */
import { findBinary, runProcess, type DialogueRun, type ProcessResult, type RunOptions } from './run-process.js';
import { PASSWORD, USER } from './server.js';

export const CURL = findBinary('curl');

export interface CurlDialogueLine {
  direction: '>' | '<';
  text: string;
}

export interface CurlRun extends DialogueRun {
  /** Every command and reply line, in order. */
  dialogue: CurlDialogueLine[];
}

export interface CurlOptions extends RunOptions {
  /** "user:password" for --user (default alice); null means no --user (anonymous). */
  user?: string | null;
  /** --insecure: no certificate checks (the test certificate is self-signed). */
  insecure?: boolean;
  /** --max-time (default 30). */
  maxTimeSeconds?: number;
  /** How to run curl (default runProcess), e.g. inside a network namespace (Topology.exec). */
  run?: (file: string, args: readonly string[], options: RunOptions) => Promise<ProcessResult>;
}

/** curl with --verbose, no config files, no proxies, and bounded times. */
export async function runCurl(args: readonly string[], options: CurlOptions = {}): Promise<CurlRun> {
  const user = options.user === undefined ? `${USER}:${PASSWORD}` : options.user;
  const result = await (options.run ?? runProcess)(
    CURL!,
    [
      '-q', // ignore any .curlrc (must come first)
      '--silent',
      '--show-error',
      '--verbose',
      '--globoff',
      '--noproxy',
      '*',
      ...(options.insecure ? ['--insecure'] : []),
      '--connect-timeout',
      '10',
      '--max-time',
      String(options.maxTimeSeconds ?? 30),
      ...(user === null ? [] : ['--user', user]),
      ...args,
    ],
    { cwd: options.cwd, env: options.env, timeoutMs: options.timeoutMs, input: options.input },
  );
  const dialogue: CurlDialogueLine[] = [];
  for (const line of result.stderr.split(/\r?\n/)) {
    if (line.startsWith('> ')) dialogue.push({ direction: '>', text: line.slice(2) });
    else if (/^< \d{3}[ -]/.test(line)) dialogue.push({ direction: '<', text: line.slice(2) });
  }
  return {
    ...result,
    dialogue,
    sent: dialogue.filter((l) => l.direction === '>').map((l) => l.text),
    received: dialogue.filter((l) => l.direction === '<').map((l) => l.text),
  };
}
