/**
 * Runs the files of a `get` or `put`: plan them (expand wildcards, check the sources),
 * then move them one after the other over one connection per server, each with its
 * retries, progress and summary; Ctrl-C aborts the transfer under way (ABOR), says what
 * it interrupted, and exits 130.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FtpClient, Progress } from '../../client/client.js';
import { exitInterrupted, onInterrupt } from '../interrupt.js';
import { createProgressReporter, type ProgressReporter } from '../progress.js';
import { EXIT, type ConnectFlags, type RemoteTarget } from '../remote.js';
import { isTransient, retryDelaySeconds } from '../retry.js';
import { humanBytes } from '../units.js';
import { Connections, untilAborted } from './connections.js';
import { Failures, Stopped } from './failures.js';
import { transferSettingsOf, type TransferFlags, type TransferSettings } from './transfer-options.js';

/** One try at one file. */
export interface Attempt {
  client: FtpClient;
  /** 0 for the first try, then 1, 2, ...: resume from what an earlier try moved. */
  retry: number;
  signal: AbortSignal;
  rateLimit?: number;
  onProgress(progress: Progress): void;
}

export interface Job {
  target: RemoteTarget;
  direction: 'download' | 'upload';
  /** The remote path, as the summary shows it. */
  remote: string;
  /** The local path, "-" for stdin/stdout. */
  local: string;
  /** The size when known before the transfer (a listing, a local file), for the total bar. */
  size?: number;
  /** False when a failed try cannot be tried again (stdin cannot be read twice). */
  retryable(): boolean;
  /** Whether `-c` can finish it after Ctrl-C (a local file, not stdin/stdout): the message says so. */
  resumable: boolean;
  /** Resolves with the file's size, and whether there was nothing to move. */
  run(attempt: Attempt): Promise<{ bytes: number; skipped?: boolean }>;
}

/** What a planner may use: connections with retries, and the record of failures. */
export interface Session {
  readonly failures: Failures;
  /** Runs `work` on the target's server, trying again after transient failures as --retries allows. */
  withRetries<T>(target: RemoteTarget, work: (client: FtpClient, retry: number) => Promise<T>, retryable?: () => boolean): Promise<T>;
}

class TransferSession implements Session {
  readonly connections: Connections;

  constructor(
    flags: ConnectFlags,
    readonly settings: TransferSettings,
    readonly signal: AbortSignal,
    readonly progress: ProgressReporter,
    readonly failures: Failures,
  ) {
    this.connections = new Connections(flags, signal);
  }

  async withRetries<T>(target: RemoteTarget, work: (client: FtpClient, retry: number) => Promise<T>, retryable: () => boolean = () => true): Promise<T> {
    const { retries, baseDelaySeconds } = this.settings.retry;
    for (let retry = 0; ; retry++) {
      try {
        return await untilAborted(
          this.connections.get(target).then((client) => work(client, retry)),
          this.signal,
        );
      } catch (error) {
        if (this.signal.aborted || retry >= retries || !isTransient(error) || !retryable()) throw error;
        this.connections.discard(target);
        const delay = retryDelaySeconds(retry + 1, baseDelaySeconds);
        this.progress.note(`ferry: retry ${retry + 1}/${retries} after ${(error as Error).message} (in ${delay} s)`);
        await sleep(delay * 1000, undefined, { signal: this.signal });
      }
    }
  }
}

export interface RunOptions {
  /** stdout carries a file: summaries go to stderr. */
  summaryToStderr?: boolean;
}

function interruptedMessage(job: Job | undefined, position: { bytes: number; total?: number }): string {
  if (!job) return 'ferry: interrupted';
  const verb = job.direction === 'download' ? 'downloading' : 'uploading';
  const of = position.total === undefined ? '' : ` of ${humanBytes(position.total)}`;
  return `ferry: interrupted: ${verb} ${job.remote} at ${humanBytes(position.bytes)}${of}${job.resumable ? '; resume with -c' : ''}`;
}

export async function runTransfers(flags: ConnectFlags & TransferFlags, options: RunOptions, plan: (session: Session) => Promise<Job[]>): Promise<void> {
  const interrupt = onInterrupt();
  let session: TransferSession | undefined;
  const failures = new Failures();
  let current: Job | undefined;
  const position: { bytes: number; total?: number } = { bytes: 0 };
  try {
    const settings = transferSettingsOf(flags);
    const progress = createProgressReporter({ json: settings.json, summaryToStderr: options.summaryToStderr });
    session = new TransferSession(flags, settings, interrupt.signal, progress, failures);
    try {
      const jobs = await plan(session);
      const sizes = jobs.map((job) => job.size);
      progress.plan(jobs.length, sizes.every((size) => size !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined);
      for (const job of jobs) {
        current = job;
        position.bytes = 0;
        position.total = job.size;
        await runJob(session, job, position);
      }
      current = undefined;
    } finally {
      progress.stop();
    }
  } catch (error) {
    if (interrupt.signal.aborted) {
      // A Stopped was printed already (the planner recorded the abort): say it once.
      if (!(error instanceof Stopped)) process.stderr.write(interruptedMessage(current, position) + '\n');
      failures.code = EXIT.aborted;
      exitInterrupted();
    } else {
      failures.last(error);
    }
  } finally {
    interrupt.dispose();
    await session?.connections.closeAll();
    process.exitCode = failures.code;
  }
}

/** One file with its retries; a failure is recorded (or stops the command, see Failures). */
async function runJob(session: TransferSession, job: Job, position: { bytes: number; total?: number }): Promise<void> {
  const file = session.progress.file(job.remote, job.direction === 'download' ? 'downloaded' : 'uploaded', { direction: job.direction, local: job.local });
  const onProgress = (progress: Progress) => {
    position.bytes = progress.bytes;
    position.total = progress.total ?? position.total;
    file.update(progress);
  };
  try {
    const result = await session.withRetries(
      job.target,
      (client, retry) => job.run({ client, retry, signal: session.signal, rateLimit: session.settings.rateLimit, onProgress }),
      () => job.retryable(),
    );
    file.finish(result.bytes, result.skipped ? 'skipped' : undefined);
  } catch (error) {
    file.fail(session.signal.aborted ? new Error('interrupted') : error, position.bytes);
    if (session.signal.aborted) throw error;
    session.failures.record(error);
  }
}
