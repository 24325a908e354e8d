/**
 * A log file that lines are appended to without ever holding up the server:
 *
 * - opened O_WRONLY|O_APPEND|O_CREAT, mode 0640 when it is created (so several writers,
 *   and logrotate's copytruncate, never overwrite each other's lines);
 * - writes go through libuv's thread pool one batch at a time, so a slow or hung disk
 *   holds one pool thread, never the event loop;
 * - what waits for the disk is bounded (maxPendingBytes): past it new lines are dropped
 *   and counted, and the count is logged (once per interval, see LogThrottle);
 * - a failed write (disk full, I/O error) drops its lines and is logged the same way;
 *   it never throws, and the next lines are tried again;
 * - reopen() (SIGHUP) opens the path afresh and then closes the old descriptor, so after
 *   logrotate renames the file the next lines go to a new one.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { LogThrottle } from './log-throttle.js';

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
const CREATE_MODE = 0o640;

/** How long close() waits for queued lines to reach the disk. */
const CLOSE_WAIT_MS = 2000;

/** About 5000 transfer log lines. */
const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;

export interface AppendFileOptions {
  logger: Logger;
  /** Bytes queued or being written before new lines are dropped. */
  maxPendingBytes?: number;
  /** What the file is, in log messages ("transfer log"). */
  label: string;
}

/** Opens (creating if missing) `path` for appending; rejects with the system error when it cannot. */
export async function openAppendFile(path: string, options: AppendFileOptions): Promise<AppendFile> {
  return new AppendFile(path, await open(path, FLAGS, CREATE_MODE), options);
}

export class AppendFile {
  private queue: string[] = [];
  /** Queued plus being written. */
  private pendingBytes = 0;
  private droppedLines = 0;
  private reopenWanted = false;
  private closed = false;
  /** The running drain, or null while idle. */
  private draining: Promise<void> | null = null;
  private readonly maxPendingBytes: number;
  private readonly throttle: LogThrottle;

  constructor(
    readonly path: string,
    private handle: FileHandle,
    private readonly options: AppendFileOptions,
  ) {
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.throttle = new LogThrottle(options.logger);
  }

  /** Lines dropped so far (queue full or write failed). */
  get dropped(): number {
    return this.droppedLines;
  }

  /** Queues one line (a newline is added); never blocks, never throws. */
  append(line: string): void {
    if (this.closed) return;
    const text = line + '\n';
    const size = Buffer.byteLength(text);
    if (this.pendingBytes + size > this.maxPendingBytes) {
      this.drop(1, 'queue full (the disk is slower than the transfers)');
      return;
    }
    this.queue.push(text);
    this.pendingBytes += size;
    this.kick();
  }

  /** Opens the path again (after logrotate moved the file); resolves once lines go to the new file. */
  reopen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.reopenWanted = true;
    return this.kick();
  }

  /**
   * Writes what is queued, then closes the file; later lines are ignored. A disk that
   * does not take them within `waitMs` does not hold up the shutdown: the lines still
   * pending are reported, and the file is closed once the write in flight ends.
   */
  async close(waitMs = CLOSE_WAIT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([this.flushed().then(() => true), new Promise<false>((resolve) => (timer = setTimeout(resolve, waitMs, false)))]);
    clearTimeout(timer);
    const closeHandle = () => this.handle.close().catch(() => undefined);
    if (finished) return closeHandle();
    this.options.logger.warn({ path: this.path, pendingBytes: this.pendingBytes }, `${this.options.label}: the disk did not take the last lines before shutdown`);
    void this.flushed().then(closeHandle);
  }

  /** Resolves once everything queued so far has been written (or dropped). */
  flushed(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private kick(): Promise<void> {
    this.draining ??= this.drain();
    return this.draining;
  }

  /**
   * One batch at a time, until nothing is queued. `draining` is cleared in the same tick
   * as the last look at the queue, so a line appended after it starts a new drain; the
   * first await comes before that, so kick() has set `draining` by then.
   */
  private async drain(): Promise<void> {
    try {
      // Lines appended in the same tick go in the first batch.
      await undefined;
      for (;;) {
        if (this.reopenWanted) await this.swapHandle();
        if (this.queue.length === 0) return;
        const lines = this.queue;
        this.queue = [];
        const batch = Buffer.from(lines.join(''));
        try {
          await writeAll(this.handle, batch);
        } catch (error) {
          this.drop(lines.length, `write failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        } finally {
          this.pendingBytes -= batch.length;
        }
      }
    } finally {
      this.draining = null;
    }
  }

  /** The new descriptor first: if the path cannot be opened, the old one stays in use. */
  private async swapHandle(): Promise<void> {
    this.reopenWanted = false;
    const { logger, label } = this.options;
    let fresh: FileHandle;
    try {
      fresh = await open(this.path, FLAGS, CREATE_MODE);
    } catch (error) {
      logger.error({ path: this.path, err: (error as Error).message }, `${label} could not be reopened; still writing to the file opened before`);
      return;
    }
    const old = this.handle;
    this.handle = fresh;
    await old.close().catch(() => undefined);
    logger.info({ path: this.path }, `${label} reopened`);
  }

  private drop(lines: number, reason: string): void {
    this.droppedLines += lines;
    this.throttle.warn('dropped', { path: this.path, dropped: this.droppedLines, reason }, `${this.options.label} lines dropped`);
  }
}

/** A regular file takes a whole write, but the API allows a short one. */
async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}
