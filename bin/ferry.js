#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/, built once at install (`prepare`), not at every start.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('ferry: Ferry is not built (no dist/): run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}
await import(main.href);
