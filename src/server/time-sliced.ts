/**
 * Long synchronous loops cut into slices of wall-clock time, with a turn of the event loop
 * between two slices: other sessions' replies, timers and I/O wait at most one slice,
 * however long each item takes (a count of items per slice would not bound that).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Work between two turns of the event loop: short enough to go unnoticed by other sessions. */
export const SLICE_MS = 5;

/** The items `keep` accepts, in order, yielding to the event loop after every `sliceMs` of work. */
export async function filterInTimeSlices<T>(items: readonly T[], keep: (item: T) => boolean, sliceMs = SLICE_MS): Promise<T[]> {
  const kept: T[] = [];
  let sliceStarted = performance.now();
  for (const item of items) {
    if (performance.now() - sliceStarted >= sliceMs) {
      await yieldToEventLoop();
      sliceStarted = performance.now();
    }
    if (keep(item)) kept.push(item);
  }
  return kept;
}
