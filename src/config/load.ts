/**
 * Builds the typed config: TOML file < command-line flags, validated by one schema.
 * Paths in the file are relative to the file's folder; paths in flags to the cwd.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, SERVER_ONLY_KEYS, type FerryConfig, type SiteDefinition } from './schema.js';
import { ConfigError } from './errors.js';

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `over` onto `base` (objects merge, everything else replaces). */
export function mergeConfig(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? mergeConfig(current, value) : value;
  }
  return out;
}

export function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let tree: Tree;
  try {
    tree = parseToml(text) as Tree;
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    const first = (error as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${path}: TOML syntax error${where}: ${first}`);
  }
  return resolveFilePaths(tree, dirname(resolve(path)), false);
}

/** Whether a config table keeps its files in S3 (its own storage.type, else the one it inherits). */
function usesS3(tree: Tree, inherited: boolean): boolean {
  const type = isTree(tree.storage) ? tree.storage.type : undefined;
  return type === undefined ? inherited : type === 's3';
}

/**
 * Makes the file's relative paths relative to the file's folder. With S3 storage, root
 * and anonymous.root are key prefixes, not paths, and stay as written.
 */
function resolveFilePaths(tree: Tree, base: string, inheritedS3: boolean): Tree {
  const out: Tree = { ...tree };
  const s3 = usesS3(tree, inheritedS3);
  for (const key of s3 ? (['users_file'] as const) : (['root', 'users_file'] as const)) {
    if (typeof out[key] === 'string' && out[key] !== '') out[key] = resolve(base, out[key] as string);
  }
  if (!s3 && isTree(out.anonymous) && typeof out.anonymous.root === 'string' && out.anonymous.root !== '') {
    out.anonymous = { ...out.anonymous, root: resolve(base, out.anonymous.root) };
  }
  if (isTree(out.tls)) {
    const tls = { ...out.tls };
    for (const key of ['cert', 'key'] as const) if (typeof tls[key] === 'string' && tls[key] !== '') tls[key] = resolve(base, tls[key] as string);
    out.tls = tls;
  }
  if (isTree(out.log) && typeof out.log.transfers === 'string' && out.log.transfers !== '') {
    out.log = { ...out.log, transfers: resolve(base, out.log.transfers) };
  }
  if (isTree(out.sites)) {
    out.sites = Object.fromEntries(Object.entries(out.sites).map(([name, table]) => [name, isTree(table) ? resolveFilePaths(table, base, s3) : table]));
  }
  return out;
}

/** With S3 storage, a config without a root keeps its files at the bucket prefix itself, not under "ftp-root". */
function withStorageDefaults(tree: Tree): Tree {
  return usesS3(tree, false) && tree.root === undefined ? { ...tree, root: '/' } : tree;
}

function describeIssue(issue: z.core.$ZodIssue): { key: string; text: string } {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = [path, issue.keys[0]].filter(Boolean).join('.');
    return { key, text: `unknown key "${key}"` };
  }
  return { key: path, text: `${path || '(top level)'}: ${issue.message}` };
}

function invalid(source: string, issues: Array<{ key: string; text: string }>): ConfigError {
  const lines = issues.map((issue) => `  ${issue.text}`).join('\n');
  return new ConfigError(`invalid configuration (${source}):\n${lines}`, issues[0]?.key);
}

/** The value at a dotted key ("passive.ports") of a raw tree, if any. */
function valueAt(tree: Tree, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (isTree(node) ? node[part] : undefined), tree);
}

/**
 * A [sites.NAME] table as a full config: the top level's keys (its file values and
 * flags, not its defaults alone) with the site's own over them, validated by the same
 * schema, so a site accepts exactly the top-level keys and its errors name the site.
 */
function siteDefinition(name: string, table: Tree, top: Tree, source: string): SiteDefinition {
  const prefix = `sites.${name}`;
  const misplaced = SERVER_ONLY_KEYS.filter((key) => valueAt(table, key) !== undefined);
  if (misplaced.length > 0) {
    throw invalid(source, misplaced.map((key) => ({ key: `${prefix}.${key}`, text: `${prefix}.${key}: set on the top level only (it belongs to the whole server, not to one site)` })));
  }
  const { hosts, ...settings } = table;
  const { sites: _sites, ...defaults } = top;
  const result = configSchema.safeParse(withStorageDefaults(mergeConfig(defaults, settings)));
  if (!result.success) {
    throw invalid(source, result.error.issues.map(describeIssue).map((issue) => ({ key: `${prefix}.${issue.key}`, text: `${prefix}.${issue.text}` })));
  }
  return { name, hosts: hosts as string[], config: { ...result.data, sites: [] } };
}

/** Validates a merged config tree; throws ConfigError naming the first bad key. */
export function validateConfig(tree: Tree, source: string): FerryConfig {
  const result = configSchema.safeParse(withStorageDefaults(tree));
  if (!result.success) throw invalid(source, result.error.issues.map(describeIssue));
  const sites = Object.entries(result.data.sites).map(([name]) => siteDefinition(name, (tree.sites as Record<string, Tree>)[name]!, tree, source));
  const seen = new Map<string, string>();
  for (const site of sites) {
    for (const host of site.hosts) {
      const other = seen.get(host.toLowerCase());
      if (other) throw invalid(source, [{ key: `sites.${site.name}.hosts`, text: `sites.${site.name}.hosts: "${host}" is already a host of sites.${other}` }]);
      seen.set(host.toLowerCase(), site.name);
    }
  }
  return { ...result.data, sites };
}

export function loadConfig(options: { file?: string; overrides?: Tree }): FerryConfig {
  const fromFile = options.file ? readConfigFile(options.file) : {};
  const merged = mergeConfig(fromFile, options.overrides ?? {});
  return validateConfig(merged, options.file ? `${options.file} and flags` : 'flags');
}
