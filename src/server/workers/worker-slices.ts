/**
 * `workers = N | "auto"`: how many processes serve FTP, and what each one's config is.
 * Every worker binds its passive ports itself (exclusive listeners), so the range is cut
 * into disjoint slices, one per worker; the admin listener is the primary's alone.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../config/errors.js';
import type { FerryConfig } from '../../config/schema.js';
import type { PortRange } from '../data/port-pool.js';

export function workerCount(config: Pick<FerryConfig, 'workers'>): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/**
 * Worker `index`'s share of `range` (of `count` equal ones; the first take one more port
 * when it does not divide evenly). "Any port" (null) needs no slicing: the kernel keeps
 * two workers' listeners apart.
 */
export function passiveSlice(range: PortRange | null, index: number, count: number): PortRange | null {
  if (!range) return null;
  const size = range.max - range.min + 1;
  if (size < count) {
    throw new ConfigError(`passive.ports: ${range.min}-${range.max} has ${size} port(s) for ${count} workers; each worker needs a port of its own (widen the range or lower workers)`, 'passive.ports');
  }
  const base = Math.floor(size / count);
  const extra = size % count;
  const min = range.min + index * base + Math.min(index, extra);
  return { min, max: min + base + (index < extra ? 1 : 0) - 1 };
}

/** What the several-process mode needs of the config: a passive range with a port for every worker (a config error naming passive.ports). */
export function checkWorkersConfig(config: FerryConfig): void {
  if (workerCount(config) === 1) return;
  passiveSlice(config.passive.ports, 0, workerCount(config));
}

/** Worker `index`'s config: its slice of the passive ports, and no admin listener (the primary serves /metrics and the web admin for all). */
export function workerConfig(config: FerryConfig, index: number, count: number): FerryConfig {
  return { ...config, passive: { ...config.passive, ports: passiveSlice(config.passive.ports, index, count) }, admin: { ...config.admin, listen: undefined } };
}
