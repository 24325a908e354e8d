/**
 * Running a Python driver script (e.g. one that drives ftplib): the script gets its
 * configuration as JSON in argv[1] and prints one JSON document on stdout.
 */
import { assertExitOk, findBinary, runProcess, type RunOptions } from './run-process.js';

export const PYTHON = findBinary('python3');

/**
 * Runs `python3 -I -c SCRIPT CONFIG-JSON` (isolated: no user site, no PYTHON* variables),
 * throws unless it exits 0, and returns its stdout parsed as JSON.
 */
export async function runPythonDriver<T>(what: string, script: string, config: unknown, options: RunOptions = {}): Promise<T> {
  const result = await runProcess(PYTHON!, ['-I', '-c', script, JSON.stringify(config)], options);
  assertExitOk(what, result);
  return JSON.parse(result.stdout.toString('utf8')) as T;
}

/** An ftplib data-connection mode: `set_pasv(passive)` and the command it must send. */
export interface FtplibMode {
  name: string;
  passive: boolean;
  /** The data-connection command ftplib must use. */
  command: RegExp;
}

export const FTPLIB_MODES: readonly FtplibMode[] = [
  { name: 'passive (PASV)', passive: true, command: /^PASV$/ },
  { name: 'active (PORT)', passive: false, command: /^PORT 127,0,0,1,\d+,\d+$/ },
];
