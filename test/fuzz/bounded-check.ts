/**
 * fast-check with a bounded search and a bounded shrink: search for at most `searchMs`
 * (or `runs` runs), stopping at the first failure; then shrink that failure, replayed
 * from its seed and path, for at most `shrinkMs`. A failure never runs for minutes, and
 * the report names the seed and path to replay it (FERRY_FUZZ_SEED / FERRY_FUZZ_PATH).
 */
import fc from 'fast-check';

export interface BoundedOptions {
  runs: number;
  searchMs: number;
  shrinkMs: number;
  /** Longest a single run may take before it counts as a failure (a hang). */
  runTimeoutMs: number;
  seed?: number;
  path?: string;
}

export interface BoundedResult {
  runs: number;
  seed: number;
}

export async function checkBounded<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, options: BoundedOptions): Promise<BoundedResult> {
  // A run interrupted by a time limit keeps going in the background: wait for it before
  // the caller tears the world down, and never start two at once.
  let inFlight: Promise<unknown> = Promise.resolve();
  const property = fc.asyncProperty(arbitrary, async (value) => {
    await inFlight.catch(() => undefined);
    const run = predicate(value);
    inFlight = run;
    await run;
  });
  const common = { timeout: options.runTimeoutMs, ...(options.seed !== undefined ? { seed: options.seed } : {}) };
  const search = await fc.check(property, {
    ...common,
    numRuns: options.runs,
    endOnFailure: true,
    ...(options.path !== undefined ? { path: options.path } : {}),
    plugins: [fc.interruptAfterTimeLimit(options.searchMs)],
  });
  await inFlight.catch(() => undefined);
  if (!search.failed) return { runs: search.numRuns, seed: search.seed };
  let report = search;
  if (search.counterexamplePath !== null) {
    const shrunk = await fc.check(property, {
      ...common,
      seed: search.seed,
      path: search.counterexamplePath,
      plugins: [fc.interruptAfterTimeLimit(options.shrinkMs)],
    });
    await inFlight.catch(() => undefined);
    // A failure that does not replay (timing) is reported as first seen.
    if (shrunk.failed) report = shrunk;
  }
  const cause = report.errorInstance instanceof Error ? report.errorInstance.message : String(report.errorInstance);
  throw new Error(`${fc.defaultReportMessage(report) ?? 'property failed'}\n${cause}`);
}
