/**
 * Transfer progress for the client commands: bars (cli-progress) on stderr when it is a
 * terminal, otherwise one plain line per finished file on stdout, which scripts can read.
 */
import { MultiBar, Presets } from 'cli-progress';
import type { Progress } from '../client/client.js';

export interface FileProgress {
  update(progress: Progress): void;
  finish(bytes: number): void;
}

export interface ProgressReporter {
  file(label: string, verb: 'downloaded' | 'uploaded' | 'skipped'): FileProgress;
  stop(): void;
}

function rate(bytes: number, ms: number): string {
  const perSecond = bytes / Math.max(ms / 1000, 0.001);
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)} MB/s` : `${(perSecond / 1e3).toFixed(1)} kB/s`;
}

/** `quiet` (e.g. for `cat`, whose stdout is the file): no lines, bars only on a terminal. */
export function createProgressReporter(options: { quiet?: boolean } = {}): ProgressReporter {
  if (process.stderr.isTTY) {
    const bars = new MultiBar(
      { stream: process.stderr, format: ' {bar} {percentage}% | {value}/{total} bytes | {label}', hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
    return {
      file(label) {
        const bar = bars.create(1, 0, { label });
        return {
          update: ({ bytes, total }) => {
            bar.setTotal(total ?? Math.max(bytes, 1));
            bar.update(bytes);
          },
          finish: (bytes) => {
            bar.setTotal(Math.max(bytes, 1));
            bar.update(bytes);
          },
        };
      },
      stop: () => bars.stop(),
    };
  }
  return {
    file(label, verb) {
      const started = Date.now();
      return {
        update: () => undefined,
        finish: (bytes) => {
          if (!options.quiet) process.stdout.write(`${verb} ${label} (${bytes} bytes${verb === 'skipped' ? '' : `, ${rate(bytes, Date.now() - started)}`})\n`);
        },
      };
    },
    stop: () => undefined,
  };
}
