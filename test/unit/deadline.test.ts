import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { withDeadline, type Start } from '../../src/util/deadline.js';

const timedOut = () => new Error('timed out');
const aborted = () => new Error('aborted by the caller');

/** A start function that records how the wait ended and exposes its resolve/reject. */
function probe<T>() {
  const finished: Array<Error | undefined> = [];
  const control: { resolve?: (value: T) => void; reject?: (error: Error) => void } = {};
  const start: Start<T> = (resolve, reject) => {
    control.resolve = resolve;
    control.reject = reject;
    return (error) => finished.push(error);
  };
  return { start, finished, control };
}

/** No timer of the helper may keep the event loop busy once the wait has settled. */
function pendingTimeouts(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('withDeadline', () => {
  test('resolves with the value; the hook runs once without an error; timer and listener are gone', async () => {
    const controller = new AbortController();
    const { start, finished, control } = probe<string>();
    const timersBefore = pendingTimeouts();
    const result = withDeadline(start, { timeoutMs: 60_000, onTimeout: timedOut, signal: controller.signal, onAbort: aborted });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    assert.equal(pendingTimeouts(), timersBefore + 1);
    control.resolve!('connected');
    control.reject!(new Error('too late'));
    assert.equal(await result, 'connected');
    assert.deepEqual(finished, [undefined]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(pendingTimeouts(), timersBefore);
  });

  test('rejects with the work\'s own error and hands it to the hook', async () => {
    const controller = new AbortController();
    const { start, finished, control } = probe<string>();
    const result = withDeadline(start, { timeoutMs: 60_000, onTimeout: timedOut, signal: controller.signal, onAbort: aborted });
    const refused = new Error('ECONNREFUSED');
    control.reject!(refused);
    await assert.rejects(result, (error) => error === refused);
    assert.deepEqual(finished, [refused]);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('rejects with onTimeout() after timeoutMs; a later success is ignored', async () => {
    const controller = new AbortController();
    const { start, finished, control } = probe<string>();
    const startedAt = performance.now();
    const result = withDeadline(start, { timeoutMs: 30, onTimeout: timedOut, signal: controller.signal, onAbort: aborted });
    await assert.rejects(result, { message: 'timed out' });
    assert.ok(performance.now() - startedAt >= 25, 'not before the time limit');
    control.resolve!('late');
    assert.equal(finished.length, 1);
    assert.equal(finished[0]?.message, 'timed out');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('an abort during the wait rejects with onAbort() and clears the timer', async () => {
    const controller = new AbortController();
    const { start, finished } = probe<string>();
    const timersBefore = pendingTimeouts();
    const result = withDeadline(start, { timeoutMs: 60_000, onTimeout: timedOut, signal: controller.signal, onAbort: aborted });
    controller.abort();
    await assert.rejects(result, { message: 'aborted by the caller' });
    assert.equal(finished[0]?.message, 'aborted by the caller');
    assert.equal(pendingTimeouts(), timersBefore);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('a signal aborted before the start still starts the work, then rejects so the hook can close it', async () => {
    const controller = new AbortController();
    controller.abort();
    const { start, finished } = probe<string>();
    const timersBefore = pendingTimeouts();
    await assert.rejects(withDeadline(start, { timeoutMs: 60_000, onTimeout: timedOut, signal: controller.signal, onAbort: aborted }), {
      message: 'aborted by the caller',
    });
    assert.equal(finished.length, 1);
    assert.equal(finished[0]?.message, 'aborted by the caller');
    assert.equal(pendingTimeouts(), timersBefore);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('without onAbort, an abort rejects with the signal\'s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const { start } = probe<string>();
    const result = withDeadline(start, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(result, (error) => error === reason);
  });

  test('work that settles while starting still gets its hook called, after it was returned', async () => {
    const finished: Array<Error | undefined> = [];
    const value = await withDeadline<number>(
      (resolve) => {
        resolve(7);
        return (error) => finished.push(error);
      },
      { timeoutMs: 60_000, onTimeout: timedOut },
    );
    assert.equal(value, 7);
    assert.deepEqual(finished, [undefined]);
  });

  test('a start function that throws rejects with what it threw', async () => {
    const broken = new Error('bad options');
    await assert.rejects(
      withDeadline<number>(() => {
        throw broken;
      }, { timeoutMs: 60_000, onTimeout: timedOut }),
      (error) => error === broken,
    );
  });

  test('a promise can be waited for directly: its value, its rejection, or the timeout', async () => {
    assert.equal(await withDeadline(Promise.resolve('ready'), { timeoutMs: 60_000, onTimeout: timedOut }), 'ready');
    await assert.rejects(withDeadline(Promise.reject(new Error('failed')), { timeoutMs: 60_000, onTimeout: timedOut }), { message: 'failed' });
    await assert.rejects(withDeadline(new Promise<never>(() => undefined), { timeoutMs: 20, onTimeout: timedOut }), { message: 'timed out' });
  });
});
