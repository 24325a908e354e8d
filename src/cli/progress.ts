/**
 * Transfer progress and summaries for the client commands.
 *
 * Bars (cli-progress) are drawn on stderr only when it is a terminal: one per file being
 * moved, with human sizes, rate and ETA, and with several files a total bar (files done
 * of all, bytes so far). A finished file leaves one summary line:
 *
 *   downloaded dir/x.txt -> local.txt (1234 bytes, 2.1 MB/s)
 *   uploaded inbox/report.pdf (5678 bytes, 900.0 kB/s)
 *   skipped dir/x.txt -> local.txt (1234 bytes)
 *
 * (the "-> local" part when the local path is not the remote one), or with `json` one
 * object per line: {"direction","remote","local","bytes","seconds","status","error"?}.
 * Summaries go to stdout, or to stderr when stdout carries a file (`get URL -`). On a
 * terminal the text line is written above the bars; it also goes to the summary stream
 * when that is not a terminal, so scripts reading a pipe always get it.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Progress } from '../client/client.js';
import { humanBytes, humanDuration, humanRate } from './units.js';

export type Verb = 'downloaded' | 'uploaded' | 'skipped';

export interface FileDetails {
  direction: 'download' | 'upload';
  /** The local file, or "-" for stdin/stdout. */
  local: string;
}

export interface FileProgress {
  update(progress: Progress): void;
  /** Done: `bytes` is the file's size; `verb` overrides the one given to `file` (a transfer found nothing to do). */
  finish(bytes: number, verb?: Verb): void;
  /** The transfer failed after `bytes` (a JSON line says so; the caller prints the error). */
  fail(error: unknown, bytes: number): void;
}

export interface ProgressReporter {
  /** How many files (and, when known, bytes) this run moves: a total bar on a terminal when more than one. */
  plan(files: number, bytes?: number): void;
  file(label: string, verb: Verb, details?: FileDetails): FileProgress;
  /** A message line on stderr (above the bars on a terminal). */
  note(message: string): void;
  stop(): void;
}

export interface ReporterOptions {
  /** One JSON object per file instead of text lines. */
  json?: boolean;
  /** stdout carries a file: summaries go to stderr. */
  summaryToStderr?: boolean;
}

interface Summary {
  label: string;
  verb: Verb;
  details?: FileDetails;
  bytes: number;
  ms: number;
  error?: unknown;
}

const STDOUT_LABEL = '(stdout)';

function textLine({ label, verb, details, bytes, ms }: Summary): string {
  const local = details?.local === '-' ? STDOUT_LABEL : details?.local;
  const arrow = details?.direction === 'download' && local !== undefined && local !== label ? ` -> ${local}` : '';
  return `${verb} ${label}${arrow} (${bytes} bytes${verb === 'skipped' ? '' : `, ${humanRate(bytes, ms)}`})`;
}

function jsonLine({ label, verb, details, bytes, ms, error }: Summary): string {
  const direction = details?.direction ?? (verb === 'uploaded' ? 'upload' : 'download');
  const status = error !== undefined ? 'failed' : verb === 'skipped' ? 'skipped' : 'ok';
  return JSON.stringify({
    direction,
    remote: label,
    local: details?.local ?? null,
    bytes,
    seconds: Math.round(ms) / 1000,
    status,
    ...(error !== undefined ? { error: (error as Error).message ?? String(error) } : {}),
  });
}

/**
 * A bar's payload: sizes, the speed since the first bytes arrived (`since`: bytes then,
 * and how many ms ago) and the time left. Not "eta": cli-progress fills that token itself.
 */
function barPayload(label: string, bytes: number, total: number | undefined, since: { bytes: number; ms: number }): Record<string, string> {
  const moved = bytes - since.bytes;
  const perSecond = moved / Math.max(since.ms / 1000, 0.001);
  return {
    label,
    done: humanBytes(bytes),
    size: total === undefined ? '?' : humanBytes(total),
    speed: humanRate(moved, since.ms),
    left: total === undefined || perSecond <= 0 ? '--' : humanDuration((total - bytes) / perSecond),
  };
}

export function createProgressReporter(options: ReporterOptions = {}): ProgressReporter {
  const summaries = options.summaryToStderr ? process.stderr : process.stdout;
  const bars = process.stderr.isTTY
    ? new MultiBar(
        { stream: process.stderr, format: ' {bar} {percentage}% | {done} / {size} | {speed} | ETA {left} | {label}', barsize: 24, hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      )
    : null;
  let files = 0;
  let filesDone = 0;
  let bytesDone = 0;
  // The total bar's size: the planned bytes, or else the sizes of the files seen so far
  // (exact once the last one has started).
  let plannedBytes: number | undefined;
  let seenBytes = 0;
  let totalBar: SingleBar | undefined;
  const totalPayload = () => ({ files: `${filesDone}/${files}`, done: humanBytes(bytesDone), size: humanBytes(plannedBytes ?? seenBytes) });

  const report = (summary: Summary) => {
    filesDone++;
    bytesDone += summary.bytes;
    totalBar?.update(filesDone, totalPayload());
    const text = textLine(summary);
    if (summary.error === undefined) bars?.log(text + '\n');
    if (options.json) summaries.write(jsonLine(summary) + '\n');
    else if (summary.error === undefined && !(bars && summaries.isTTY)) summaries.write(text + '\n');
  };

  return {
    plan(count, bytes) {
      files = count;
      plannedBytes = bytes;
      if (bars && count > 1) totalBar = bars.create(count, 0, totalPayload(), { format: ' {bar} {percentage}% | files {files} | {done} / {size} | total' });
    },
    file(label, verb, details) {
      const started = performance.now();
      let bar: SingleBar | undefined;
      let first: { bytes: number; at: number } | undefined;
      let seen = false;
      const see = (total: number | undefined) => {
        if (seen || total === undefined) return;
        seen = true;
        seenBytes += total;
        totalBar?.update(filesDone, totalPayload());
      };
      const end = (bytes: number, error?: unknown, finalVerb = verb) => {
        if (bar) bars!.remove(bar);
        if (error === undefined) see(bytes);
        report({ label, verb: finalVerb, details, bytes, ms: performance.now() - started, error });
      };
      return {
        update: ({ bytes, total }) => {
          if (!bars) return;
          see(total);
          const now = performance.now();
          first ??= { bytes, at: now };
          const payload = barPayload(label, bytes, total, { bytes: first.bytes, ms: now - first.at });
          bar ??= bars.create(1, 0, payload);
          bar.setTotal(Math.max(total ?? bytes, 1));
          bar.update(bytes, payload);
        },
        finish: (bytes, finalVerb) => end(bytes, undefined, finalVerb),
        fail: (error, bytes) => end(bytes, error),
      };
    },
    note(message) {
      if (bars) bars.log(message + '\n');
      else process.stderr.write(message + '\n');
    },
    stop() {
      if (!bars) return;
      bars.update(); // flushes lines logged since the last redraw
      bars.stop();
    },
  };
}
