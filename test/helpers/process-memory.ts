/** A process's resident memory (VmRSS in /proc/PID/status), read once or sampled while a test runs. */
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export interface RssSamples {
  peak: number;
  /** Every sample, in order (bytes). */
  samples: number[];
}

/** Samples `pid`'s RSS every `intervalMs` until stop(), which takes one last sample and returns them. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): RssSamples } {
  const samples = [rssBytes(pid)];
  // A process that exits mid-run ends the sampling; the test sees why from its exit.
  const take = () => {
    try {
      samples.push(rssBytes(pid));
    } catch {
      clearInterval(timer);
    }
  };
  // Unref'd: a test that fails before stop() must not be held open by the sampling.
  const timer = setInterval(take, intervalMs).unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peak: Math.max(...samples), samples };
    },
  };
}
