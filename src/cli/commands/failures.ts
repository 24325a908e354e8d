/**
 * The outcome of a command over several files: each failure is printed when it happens
 * and the command goes on with the next file; the exit code is the first failure's.
 * A failure no other file can escape (login refused, TLS, a usage error, Ctrl-C) stops
 * the command: `record` throws Stopped after printing it.
 */
import { EXIT, exitCodeFor } from '../remote.js';

/** Thrown by `record` for a failure that ends the command; already printed. */
export class Stopped extends Error {}

const STOPPING: ReadonlySet<number> = new Set([EXIT.usage, EXIT.login, EXIT.tls, EXIT.aborted]);

export class Failures {
  code: number = EXIT.ok;

  /** Prints the error, keeps the first exit code; throws Stopped when nothing else can work. */
  record(error: unknown): void {
    if (error instanceof Stopped) throw error;
    const code = exitCodeFor(error);
    if (this.code === EXIT.ok) this.code = code;
    if (STOPPING.has(code)) throw new Stopped();
  }

  /** For the error that ended the command: recorded unless it is a Stopped (already printed). */
  last(error: unknown): void {
    if (error instanceof Stopped) return;
    try {
      this.record(error);
    } catch {
      // Stopped: the command is over anyway.
    }
  }
}
