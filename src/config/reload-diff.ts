/**
 * What a config reload (SIGHUP) changes: the keys whose values differ between the
 * running config and the new one, and which of those only a restart applies (the
 * listeners' addresses, the process's account and worker count, what start-up opened once: the admin
 * listener, the transfer log, hooks, the cluster connection, the defender's state).
 * Everything else applies without dropping a session.
 */
import { isDeepStrictEqual } from 'node:util';
import { describeConfig } from './reference.js';
import type { FerryConfig } from './schema.js';

/** Keys (or whole tables) read once at start; a changed value waits for a restart. */
export const RESTART_ONLY_KEYS = [
  'host',
  'port',
  'run_as',
  'workers',
  'tls.implicit',
  'tls.implicit_port',
  'admin',
  'log.format',
  'log.transfers',
  'log.transfers_format',
  'hooks',
  'cluster',
  'defender',
  'limits.reserved_descriptors',
] as const;

export interface ConfigChanges {
  /** Dotted keys with a new value ("sites.NAME" for a site added, removed or changed). */
  changed: string[];
  /** The changed keys that only a restart applies; until then the running values stay. */
  needsRestart: string[];
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The config's [tables] (the top level is ""): other values compare whole, even those that parse to objects ("passive.ports"). */
const TABLES = new Set(describeConfig().map((table) => table.name ?? ''));

/** Dotted paths of the keys that differ. */
function differingKeys(before: unknown, after: unknown, prefix: string, out: string[]): void {
  if (TABLES.has(prefix) && isTree(before) && isTree(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      differingKeys(before[key], after[key], prefix ? `${prefix}.${key}` : key, out);
    }
  } else if (!isDeepStrictEqual(before, after)) {
    out.push(prefix);
  }
}

const restartOnly = (key: string) => RESTART_ONLY_KEYS.some((restart) => key === restart || key.startsWith(`${restart}.`));

export function configChanges(running: FerryConfig, next: FerryConfig): ConfigChanges {
  const changed: string[] = [];
  const { sites: runningSites, ...runningTop } = running;
  const { sites: nextSites, ...nextTop } = next;
  differingKeys(runningTop, nextTop, '', changed);
  const names = new Set([...runningSites.map((site) => site.name), ...nextSites.map((site) => site.name)]);
  for (const name of names) {
    const before = runningSites.find((site) => site.name === name);
    const after = nextSites.find((site) => site.name === name);
    if (!isDeepStrictEqual(before, after)) changed.push(`sites.${name}`);
  }
  return { changed, needsRestart: changed.filter(restartOnly) };
}

function valueAt(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isTree(node) ? node[key] : undefined), tree);
}

function withValueAt(tree: Tree, [key, ...rest]: string[], value: unknown): Tree {
  if (key === undefined) return tree;
  const child = tree[key];
  return { ...tree, [key]: rest.length === 0 ? value : withValueAt(isTree(child) ? child : {}, rest, value) };
}

/**
 * The config to run with after a reload: `next`, but with the running value of every
 * restart-only key, so the server reads no setting it cannot apply and the next reload
 * still reports what waits for a restart.
 */
export function runnableConfig(running: FerryConfig, next: FerryConfig): FerryConfig {
  let out = next as unknown as Tree;
  for (const key of RESTART_ONLY_KEYS) out = withValueAt(out, key.split('.'), valueAt(running as unknown as Tree, key));
  return out as unknown as FerryConfig;
}
