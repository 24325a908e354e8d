/**
 * `npm run docs:config`: writes the config-file reference generated from the schema into
 * the README, between the config-reference markers. A test fails while the README is
 * out of date, so a new or changed key cannot go undocumented.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderConfigReference } from '../src/config/reference.js';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- config-reference: generated from src/config/schema.ts by `npm run docs:config` -->';
const END = '<!-- /config-reference -->';

/** The README with its reference block replaced by the one the schema gives. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no config reference markers (${START} ... ${END})`);
  const block = `${START}\n\`\`\`toml\n${renderConfigReference('toml')}\`\`\`\n`;
  return readme.slice(0, start) + block + readme.slice(end);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const before = readFileSync(README, 'utf8');
  const after = withConfigReference(before);
  if (after !== before) writeFileSync(README, after);
  console.log(after === before ? 'README.md: config reference already up to date' : 'README.md: config reference updated');
}
