/** Asserting on configuration errors. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';

/** Runs `run`, asserts that it throws a ConfigError, and returns it (for checks on its message). */
export function configError(run: () => unknown): ConfigError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  return caught;
}
