/** Waiting for a `ferry serve` child process to print its ready line. */
import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the control port from "Ferry FTP server ready on HOST:PORT" on the
 * child's stdout (HOST as listened on: 127.0.0.1, 0.0.0.0, [::], ...); rejects if the
 * process exits first or prints nothing in time. `output()` returns everything printed so far.
 */
export function waitForReady(child: ChildProcess, timeoutMs = 15_000): { port: Promise<number>; output: () => string } {
  let out = '';
  child.stdout!.setEncoding('utf8');
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry printed no ready line: ${out}`)), timeoutMs);
    child.stdout!.on('data', (text: string) => {
      out += text;
      const match = /ready on (?:\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited with ${code}: ${out}`));
    });
  });
  return { port, output: () => out };
}
