/**
 * Byte counts in and out of the command line: sizes and rates as curl's --limit-rate
 * reads them (K, M, G are powers of 1024; also `ferry user`'s quotas and rates), and
 * human sizes, rates and durations for progress (powers of 1000, "kB", "MB", as the
 * summary lines have always shown rates).
 */
import { UsageError } from './remote.js';

const BYTE_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * "500", "100K", "2.5M", "1G" -> a whole number of bytes (or bytes per second), at least
 * `min`; anything else is a UsageError naming `flag` and saying what `unit` it counts.
 */
export function parseByteCount(text: string, flag: string, options: { unit: string; min: number }): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)([kmg]?)$/i.exec(text.trim());
  const count = match ? Math.floor(Number(match[1]) * BYTE_SUFFIX[match[2]!.toLowerCase()]!) : NaN;
  if (!(count >= options.min) || !Number.isSafeInteger(count)) {
    throw new UsageError(`${flag}: not ${options.min > 0 ? 'a positive' : 'a'} number of ${options.unit}: ${text} (or with K, M or G: 100K, 2.5M)`);
  }
  return count;
}

/** --limit-rate: "100K", "1M", "2.5M", "500" -> bytes per second (at least 1). */
export function parseRate(text: string): number {
  return parseByteCount(text, '--limit-rate', { unit: 'bytes per second', min: 1 });
}

const SIZE_UNITS = ['kB', 'MB', 'GB', 'TB', 'PB'];

/** 999 -> "999 B", 12_345_678 -> "12.3 MB". */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

/** Bytes over milliseconds -> "1.2 MB/s" (never "B/s": at least "0.0 kB/s", as scripts parse it). */
export function humanRate(bytes: number, ms: number): string {
  const perSecond = bytes / Math.max(ms / 1000, 0.001);
  return perSecond >= 1e6 ? `${humanBytes(perSecond)}/s` : `${(perSecond / 1e3).toFixed(1)} kB/s`;
}

/** Seconds -> "42s", "3m05s", "2h07m"; "--" when unknown. */
export function humanDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
