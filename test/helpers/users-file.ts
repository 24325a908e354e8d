/** Users files made the way an admin makes them: `ferry user add` with the password on stdin. */
import { spawnSync } from 'node:child_process';
import { FERRY_BIN } from '../client/support.js';
import { runProcess, type ProcessResult } from './run-process.js';

/** Adds (or replaces) `name` with `password` in the users file `file` (created if missing). */
export function addUser(file: string, name: string, password: string): string {
  const add = spawnSync(process.execPath, [FERRY_BIN, 'user', 'add', name, '--users', file], { input: `${password}\n`, encoding: 'utf8', timeout: 20_000 });
  if (add.status !== 0) throw new Error(`ferry user add ${name} failed: ${add.stderr}`);
  return file;
}

/** `ferry user ARGS...`, with `stdin` piped in when given (the password line). */
export function ferryUser(args: readonly string[], stdin?: string): Promise<ProcessResult> {
  return runProcess(process.execPath, [FERRY_BIN, 'user', ...args], { input: stdin === undefined ? undefined : Buffer.from(stdin), timeoutMs: 20_000 });
}
