/**
 * The config-file reference, read from the schema itself: every key with the value it
 * shows (its example, else its default) and its one-line description, grouped by
 * [table]. `ferry serve --help` prints it and `npm run docs:config` writes it into the
 * README, so the three cannot drift apart.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export interface ConfigKeyDoc {
  key: string;
  /** A TOML literal: the key's example when it has one, else its default. */
  value: string;
  description: string;
}

export interface ConfigTableDoc {
  /** null for the top-level keys. */
  name: string | null;
  description?: string;
  keys: ConfigKeyDoc[];
}

/** The schema's keys in schema order, top-level keys first (TOML puts tables last). */
export function describeConfig(schema: z.ZodObject = configSchema): ConfigTableDoc[] {
  const top: ConfigTableDoc = { name: null, keys: [] };
  const tables: ConfigTableDoc[] = [];
  for (const [key, field] of Object.entries(schema.shape)) {
    const table = tableOf(field);
    if (!table) {
      top.keys.push(describeKey(key, field, null));
      continue;
    }
    // A record of tables ([sites.NAME]) is shown as one such table, NAME standing for any name.
    const name = table.named ? `${key}.NAME` : key;
    tables.push({ name, description: field.meta()?.description, keys: Object.entries(table.object.shape).map(([inner, innerField]) => describeKey(inner, innerField, name)) });
  }
  return [top, ...tables];
}

/** The object inside a table key (`z.strictObject(...).prefault({})`, or a record of them), or null for a plain key. */
function tableOf(field: z.ZodType): { object: z.ZodObject; named: boolean } | null {
  const inner = field instanceof z.ZodPrefault || field instanceof z.ZodDefault ? field.unwrap() : field;
  if (inner instanceof z.ZodObject) return { object: inner, named: false };
  if (inner instanceof z.ZodRecord && inner.valueType instanceof z.ZodObject) return { object: inner.valueType, named: true };
  return null;
}

function describeKey(key: string, field: z.ZodType, table: string | null): ConfigKeyDoc {
  const path = table === null ? key : `${table}.${key}`;
  const meta = field.meta();
  if (!meta?.description) throw new Error(`config key ${path} has no description: add .meta({ description }) in src/config/schema.ts`);
  const examples = meta.examples as unknown[] | undefined;
  const value = examples?.length ? examples[0] : defaultOf(field);
  if (value === undefined) throw new Error(`config key ${path} has neither a default nor an example`);
  return { key, value: tomlValue(value, path), description: meta.description };
}

/**
 * The key's default. A `.default()` value is shown as it is, so a key whose text is
 * transformed (passive.ports) gives its default as text with `.prefault()` instead.
 */
function defaultOf(field: z.ZodType): unknown {
  if (field instanceof z.ZodDefault || field instanceof z.ZodPrefault) return field.def.defaultValue;
  return undefined;
}

function tomlValue(value: unknown, path: string): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((item) => tomlValue(item, path)).join(', ')}]`;
  throw new Error(`config key ${path}: cannot show ${JSON.stringify(value)} as TOML; give it a TOML example`);
}

export type ReferenceStyle = 'toml' | 'help';

/** The README block is TOML (descriptions as comments, a blank line before each table); the help is indented, without "#". */
const STYLES: Record<ReferenceStyle, { indent: string; comment: string; gap: boolean }> = {
  toml: { indent: '', comment: '# ', gap: true },
  help: { indent: '  ', comment: '', gap: false },
};
/** Descriptions start in this column (after the indent), or two spaces after a longer `key = value`. */
const DESCRIPTION_COLUMN = 30;
/** Descriptions wrap before this width; a continuation line starts in the description column. */
const LINE_WIDTH = 100;

/** The reference as text, one line per key ("key = value   description"), ending with a newline. */
export function renderConfigReference(style: ReferenceStyle, tables: ConfigTableDoc[] = describeConfig()): string {
  const { gap } = STYLES[style];
  const lines: string[] = [];
  for (const table of tables) {
    if (table.name !== null) {
      if (gap) lines.push('');
      lines.push(...annotated(style, `[${table.name}]`, table.description));
    }
    for (const key of table.keys) lines.push(...annotated(style, `${key.key} = ${key.value}`, key.description));
  }
  return lines.join('\n') + '\n';
}

function annotated(style: ReferenceStyle, text: string, description: string | undefined): string[] {
  const { indent, comment } = STYLES[style];
  if (!description) return [indent + text];
  const column = Math.max(DESCRIPTION_COLUMN, text.length + 2);
  const [first = '', ...rest] = wrap(description, LINE_WIDTH - indent.length - column - comment.length);
  const continuation = indent + ' '.repeat(column) + comment;
  return [indent + text.padEnd(column) + comment + first, ...rest.map((line) => continuation + line)];
}

/** Splits at spaces into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines;
}
