/**
 * The line `ferry mirror` ends with:
 * "mirror: 12 files (3 skipped, 1 deleted), 4.2 MB in 1.3 s, 3.2 MB/s".
 */
import type { TreeTransferResult } from '../client/tree-transfer.js';
import { humanBytes } from './units.js';

export function formatSummary(result: TreeTransferResult, dryRun: boolean): string {
  const counts = [`${result.skipped} skipped`, `${result.deleted} deleted`];
  if (result.refused > 0) counts.push(`${result.refused} refused`);
  const files = `${result.transferred} file${result.transferred === 1 ? '' : 's'} (${counts.join(', ')}), ${humanBytes(result.bytes)}`;
  if (dryRun) return `mirror: dry run, nothing changed: would transfer ${files}`;
  const seconds = Math.max(result.elapsedMs, 1) / 1000;
  return `mirror: ${files} in ${seconds.toFixed(1)} s, ${humanBytes(Math.round(result.bytes / seconds))}/s`;
}
