import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { filterInTimeSlices } from '../../src/server/time-sliced.js';

/** Burns `ms` of wall-clock time synchronously, as a slow match would. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('filterInTimeSlices', () => {
  test('keeps what the predicate accepts, in order', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => i);
    assert.deepEqual(await filterInTimeSlices(items, (i) => i % 7 === 0), items.filter((i) => i % 7 === 0));
    assert.deepEqual(await filterInTimeSlices([], () => true), []);
  });

  test('lets the event loop run after a slice of slow items, not only after a count of them', async () => {
    // 40 items of 1 ms each: with 5 ms slices a waiting callback runs after ~5 of them;
    // a loop yielding every N items (N in the hundreds) would keep it waiting for all 40.
    let seenAt: number | undefined;
    let done = 0;
    setImmediate(() => {
      seenAt = done;
    });
    const kept = await filterInTimeSlices(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => {
        busyFor(1);
        done++;
        return i % 2 === 0;
      },
      5,
    );
    assert.equal(kept.length, 20);
    assert.ok(seenAt !== undefined && seenAt <= 10, `the event loop first ran after ${seenAt} of 40 items`);
  });
});
