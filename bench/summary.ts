/**
 * From a server's repeated measurements of one workload to what the report shows: the
 * median and range, the CPU figures, the server's cost per unit of work, and what limited
 * the run. Ferry is compared with the best peer: the one with the highest throughput (or
 * the lowest memory) on that workload.
 */
import type { Measurement } from './workloads.js';
import type { ServerName } from './types.js';

/**
 * What bounded a run:
 * - "client": the client (curl or the load driver, one thread each) used ≥ 90 % of a core,
 *   so the server may have had more to give;
 * - "machine": the server and the client together used ≥ 90 % of all cores;
 * - "busy": the machine was ≥ 90 % busy, but mostly with other processes (a shared machine);
 * - "-": none of these: the server itself (or its disk, or the network stack) was the limit.
 */
export type Limit = 'client' | 'machine' | 'busy' | '-';
const LIMITS: Limit[] = ['client', 'machine', 'busy', '-'];
const BOUND = 0.9;

export function limitOf(m: Measurement, cores: number): Limit {
  if (!m.wallSeconds || m.clientCpuSeconds === undefined) return '-';
  if (m.clientCpuSeconds / m.wallSeconds >= BOUND) return 'client';
  if ((m.clientCpuSeconds + (m.serverCpuSeconds ?? 0)) / m.wallSeconds >= BOUND * cores) return 'machine';
  if ((m.machineBusyCores ?? 0) >= BOUND * cores) return 'busy';
  return '-';
}

export interface ServerSummary {
  median: number;
  min: number;
  max: number;
  serverCpu?: number;
  clientCpu?: number;
  serverCost?: number;
  /** The most frequent limit over the runs (ties go to the first in LIMITS). */
  limit: Limit;
  limits: Limit[];
  notes: string[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOf(runs: Measurement[], key: 'serverCpuSeconds' | 'clientCpuSeconds' | 'serverCost'): number | undefined {
  const values = runs.map((m) => m[key]).filter((v): v is number => v !== undefined);
  return values.length ? median(values) : undefined;
}

export function summarize(runs: Measurement[] | undefined, cores: number): ServerSummary | null {
  if (!runs || runs.length === 0) return null;
  const values = runs.map((m) => m.value);
  const limits = runs.map((m) => limitOf(m, cores));
  const count = (limit: Limit) => limits.filter((l) => l === limit).length;
  const limit = LIMITS.reduce((best, l) => (count(l) > count(best) ? l : best), LIMITS[LIMITS.length - 1]!);
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    serverCpu: medianOf(runs, 'serverCpuSeconds'),
    clientCpu: medianOf(runs, 'clientCpuSeconds'),
    serverCost: medianOf(runs, 'serverCost'),
    limit,
    limits,
    notes: [...new Set(runs.map((m) => m.note).filter((n): n is string => Boolean(n)))],
  };
}

/** The peer Ferry is measured against on one workload, and Ferry's median over that peer's. */
export function versusBestPeer(summaries: Partial<Record<ServerName, ServerSummary | null>>, higherIsBetter: boolean): { peer: ServerName; ratio: number } | null {
  const ferry = summaries.ferry;
  let best: { peer: ServerName; median: number } | null = null;
  for (const [name, summary] of Object.entries(summaries) as Array<[ServerName, ServerSummary | null]>) {
    if (name === 'ferry' || !summary) continue;
    if (!best || (higherIsBetter ? summary.median > best.median : summary.median < best.median)) best = { peer: name, median: summary.median };
  }
  if (!ferry || !best || best.median === 0) return null;
  return { peer: best.peer, ratio: ferry.median / best.median };
}
