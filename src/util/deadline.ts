/**
 * A wait bounded by a time limit and an AbortSignal: connecting a socket, accepting a
 * data connection, a TLS handshake. Whichever comes first (success, failure, timeout,
 * abort) settles the promise; the timer and the abort listener are gone on every path,
 * and the caller's `finish` hook runs exactly once so it can remove its own listeners and
 * destroy what it was opening.
 */

/** Runs once when the wait ends: `error` is the reason it failed, undefined on success. */
export type Finish = (error: Error | undefined) => void;

/** Starts the work; returns the hook that tidies up after it (or nothing to tidy). */
export type Start<T> = (resolve: (value: T) => void, reject: (error: Error) => void) => Finish | void;

type TimeLimit = { timeoutMs: number; onTimeout: () => Error } | { timeoutMs?: undefined; onTimeout?: undefined };

export type DeadlineOptions = TimeLimit & {
  signal?: AbortSignal;
  /** The error an abort rejects with; default: the signal's reason. */
  onAbort?: () => Error;
};

/**
 * Settles with the work's result, or rejects with `onTimeout()` after `timeoutMs`, or
 * with `onAbort()` when `signal` aborts. A signal already aborted still starts the work
 * and rejects right after it, so `finish` can close what `start` was given or opened.
 * `work` is either a start function or a promise to wait for.
 */
export function withDeadline<T>(work: Start<T> | Promise<T>, options: DeadlineOptions): Promise<T> {
  const { signal } = options;
  const abortError = () => options.onAbort?.() ?? reasonOf(signal!);
  const start: Start<T> = typeof work === 'function' ? work : (resolve, reject) => void work.then(resolve, reject);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let started = false;
    let failure: Error | undefined;
    let finish: Finish | void = undefined;
    let timer: NodeJS.Timeout | undefined;
    /** True for the first outcome only; later ones are ignored. */
    const end = (error: Error | undefined): boolean => {
      if (settled) return false;
      settled = true;
      failure = error;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // `start` may settle before it has returned its hook: then the hook runs once it has.
      if (started) finish?.(error);
      return true;
    };
    const succeed = (value: T) => {
      if (end(undefined)) resolve(value);
    };
    const fail = (error: Error) => {
      if (end(error)) reject(error);
    };
    const onAbort = () => fail(abortError());
    if (options.timeoutMs !== undefined) {
      const { onTimeout } = options;
      timer = setTimeout(() => fail(onTimeout()), options.timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      finish = start(succeed, fail);
    } catch (error) {
      fail(error as Error);
    }
    started = true;
    if (settled) finish?.(failure);
    else if (signal?.aborted) onAbort();
  });
}

function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
}
