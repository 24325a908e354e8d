/**
 * Servers that shell lines start (`ferry serve …`, `npm start`) in a NamespaceShell: a
 * line runs as a background job and counts as started once it prints the ready line and
 * its port answers with a 220 greeting; it is stopped with SIGTERM to its `ferry serve`
 * process (by PID, found below the job) and must then exit 0.
 */
import assert from 'node:assert/strict';
import { commandLineOf, processRuns, processTree, type BackgroundJob, type NamespaceShell } from './namespace-shell.js';

/** The ready line of `ferry serve`, as the README's Quick start shows it. */
export const READY = /^Ferry FTP server ready on (\[[^\]]+\]|[^\s:]+):(\d+) \(root /m;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function tail(text: string, max = 3000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/** A failure message: where, what, and the tails of the output. */
export function report(where: string, what: string, output: { stdout: string; stderr: string }): string {
  return `${where}: ${what}\n--- stdout ---\n${tail(output.stdout)}\n--- stderr ---\n${tail(output.stderr)}`;
}

export interface RunningServer {
  where: string;
  job: BackgroundJob;
}

/** Starts `text` in the background and waits until it serves (ready line, then a 220 on its port). */
export async function startServer(shell: NamespaceShell, text: string, where: string): Promise<RunningServer> {
  const job = await shell.background(text);
  const output = () => ({ stdout: job.stdout(), stderr: job.stderr() });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ready = READY.exec(job.stdout());
  while (!ready) {
    assert.ok(processRuns(job.pid), report(where, 'exited before printing its ready line', output()));
    assert.ok(Date.now() < deadline, report(where, `printed no ready line within ${READY_TIMEOUT_MS / 1000} s`, output()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    ready = READY.exec(job.stdout());
  }
  const host = ['0.0.0.0', '[::]'].includes(ready[1]!) ? '127.0.0.1' : ready[1]!.replace(/^\[|\]$/g, '');
  const greeting = await shell.firstLine(host, Number(ready[2]));
  assert.match(greeting, /^220 /, report(where, `answered ${JSON.stringify(greeting)} on ${host}:${ready[2]}, not a 220 greeting`, output()));
  return { where, job };
}

/** SIGTERM to the `ferry serve` process the line started; the line must then exit 0. */
export async function stopServer(shell: NamespaceShell, server: RunningServer): Promise<void> {
  const output = () => ({ stdout: server.job.stdout(), stderr: server.job.stderr() });
  const serving = processTree(server.job.pid).filter((pid) => {
    const argv = commandLineOf(pid);
    return argv.some((arg, i) => arg.endsWith('ferry.js') && argv[i + 1] === 'serve');
  });
  assert.equal(serving.length, 1, report(server.where, `expected one ferry serve process below job ${server.job.pid}, found ${serving.length}`, output()));
  process.kill(serving[0]!, 'SIGTERM');
  const code = await shell.wait(server.job, STOP_TIMEOUT_MS);
  assert.equal(code, 0, report(server.where, `exit ${code} after SIGTERM (expected a clean exit, 0)`, output()));
}
