/**
 * Loads one of Ferry's native addons (binding.gyp, built by `npm install`), once. Each is
 * optional: where it was not built (another OS, no compiler), callers take their
 * JavaScript path.
 */
import { createRequire } from 'node:module';

const loaded = new Map<string, unknown>();

/** The addon `build/Release/<name>.node`, or null when it is not there. */
export function loadNativeAddon<T>(name: string): T | null {
  if (!loaded.has(name)) {
    let addon: unknown = null;
    try {
      addon = createRequire(import.meta.url)(`../../../build/Release/${name}.node`);
    } catch {
      // not built here
    }
    loaded.set(name, addon);
  }
  return loaded.get(name) as T | null;
}
