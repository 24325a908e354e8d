/**
 * Runs a command hook: argv through execFile (never a shell, so no name a client chose is
 * ever parsed as shell syntax), the event in the environment and as JSON on stdin. Past
 * the timeout it gets SIGTERM, then SIGKILL a second later.
 */
import { spawn } from 'node:child_process';
import { hookEnvironment, type HookEvent } from './hook-event.js';

const KILL_GRACE_MS = 1000;

/** Resolves when the command exited 0; rejects with the reason in words otherwise. */
export function runCommandHook(argv: readonly string[], event: HookEvent, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: hookEnvironment(event), stdio: ['pipe', 'ignore', 'ignore'], shell: false });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    const finish = (error: Error | null) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (error) reject(error);
      else resolve();
    };
    child.once('error', (error) => finish(new Error(`cannot run ${argv[0]}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (timedOut) finish(new Error(`timed out after ${timeoutMs} ms (killed)`));
      else if (code !== 0) finish(new Error(signal ? `killed by ${signal}` : `exited with code ${code}`));
      else finish(null);
    });
    // A hook that does not read its stdin must not fail the run (EPIPE).
    child.stdin.once('error', () => {});
    child.stdin.end(JSON.stringify(event));
  });
}
