/** Storage for tests that must fail, stall or hide a capability at one place. */
import type { StorageBackend } from '../../src/storage/backend.js';

/** `inner` with the given members replaced; everything else is inner's own (its prototype chain). */
export function overriding(inner: StorageBackend, overrides: Partial<StorageBackend>): StorageBackend {
  return Object.assign(Object.create(inner) as StorageBackend, overrides);
}
