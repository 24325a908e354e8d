/**
 * Ctrl-C during a client command: the first SIGINT aborts through an AbortSignal (a
 * transfer sends ABOR and the command reports what it interrupted, then exits 130); a
 * second one exits at once, for when the server does not answer the abort.
 */
import { EXIT } from './remote.js';

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Removes the SIGINT handlers (Node's default, exit at once, is back). */
  dispose(): void;
}

/** How long closing may take after Ctrl-C before the process exits anyway. */
const INTERRUPTED_EXIT_MS = 3000;

/** After an interrupted command: exit 130, at once if closing the connections hangs. */
export function exitInterrupted(): void {
  process.exitCode = EXIT.aborted;
  setTimeout(() => process.exit(EXIT.aborted), INTERRUPTED_EXIT_MS).unref();
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const again = () => process.exit(EXIT.aborted);
  const first = () => {
    controller.abort();
    process.once('SIGINT', again);
  };
  process.once('SIGINT', first);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', first);
      process.off('SIGINT', again);
    },
  };
}

/** Thrown by a command that was interrupted, with the line that says how far it got (without "ferry: "). */
export class Interrupted extends Error {}
