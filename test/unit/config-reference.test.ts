import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { describeConfig, renderConfigReference } from '../../src/config/reference.js';
import { configSchema } from '../../src/config/schema.js';
import { README, withConfigReference } from '../../scripts/docs-config.js';

/** Every key path of the schema, found independently of reference.ts (through its JSON Schema). */
function schemaKeyPaths(): string[] {
  type Node = { properties?: Record<string, unknown>; additionalProperties?: Node };
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, Node> };
  return Object.entries(json.properties).flatMap(([key, value]) => {
    if (value.properties) return Object.keys(value.properties).map((inner) => `${key}.${inner}`);
    // A record of tables ([sites.NAME]): its entries' keys, NAME standing for any name.
    if (value.additionalProperties?.properties) return Object.keys(value.additionalProperties.properties).map((inner) => `${key}.NAME.${inner}`);
    return [key];
  });
}

function referencePaths(): string[] {
  return describeConfig().flatMap((table) => table.keys.map((doc) => (table.name ? `${table.name}.${doc.key}` : doc.key)));
}

describe('the config reference generated from the schema', () => {
  test('documents every key of the schema, each with a description', () => {
    const paths = schemaKeyPaths();
    assert.ok(paths.includes('host') && paths.includes('tls.strict_upload_eof') && paths.includes('defender.allow'), paths.join(' '));
    assert.deepEqual(referencePaths().sort(), paths.sort());
    for (const table of describeConfig()) for (const doc of table.keys) assert.ok(doc.description.length > 5, doc.key);
  });

  test('is itself a valid config file whose defaults are the schema\'s', () => {
    const shown = configSchema.parse(parseToml(renderConfigReference('toml')));
    const defaults = configSchema.parse({});
    // Keys shown with an example instead of their default (or that have none) differ; all others match.
    assert.equal(shown.port, defaults.port);
    assert.deepEqual(shown.passive.ports, { min: 50000, max: 50999 });
    assert.deepEqual(shown.passive.ports, defaults.passive.ports);
    assert.deepEqual(shown.limits, defaults.limits);
    assert.deepEqual(shown.timeouts, defaults.timeouts);
    assert.equal(shown.tls.implicit_port, defaults.tls.implicit_port);
    assert.deepEqual(shown.defender.allow, ['192.0.2.0/24']);
  });

  test('the help lists "key = value  description" under [table] headings, aligned', () => {
    const help = renderConfigReference('help').split('\n');
    assert.ok(help.includes('  port = 2121                   control port'));
    assert.ok(help.includes('  [passive]'));
    assert.ok(help.includes('  ports = "50000-50999"         vsftpd pasv_min_port/pasv_max_port; "0" = any free port'));
    assert.ok(help.includes('  listing_max_entries = 100000  entries one listing reads, then it answers "truncated"'));
    assert.ok(help.every((line) => line.length <= 100), 'no line wider than 100 columns');
  });

  test('the README shows the reference the schema gives (run `npm run docs:config` after changing the schema)', () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(withConfigReference(readme), readme);
  });
});
