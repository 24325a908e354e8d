/**
 * The line `ferry mirror` ends with:
 * "mirror: 12 files (3 skipped, 1 deleted), 4.2 MB in 1.3 s, 3.2 MB/s".
 */
import type { TreeTransferResult } from '../client/tree-transfer.js';

/** Decimal units, as the per-file lines' rates use (1 MB = 10^6 bytes). */
function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

export function formatSummary(result: TreeTransferResult, dryRun: boolean): string {
  const counts = [`${result.skipped} skipped`, `${result.deleted} deleted`];
  if (result.refused > 0) counts.push(`${result.refused} refused`);
  const files = `${result.transferred} file${result.transferred === 1 ? '' : 's'} (${counts.join(', ')}), ${formatBytes(result.bytes)}`;
  if (dryRun) return `mirror: dry run, nothing changed: would transfer ${files}`;
  const seconds = Math.max(result.elapsedMs, 1) / 1000;
  return `mirror: ${files} in ${seconds.toFixed(1)} s, ${formatBytes(Math.round(result.bytes / seconds))}/s`;
}
