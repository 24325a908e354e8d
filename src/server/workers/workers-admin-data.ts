/**
 * The primary's web admin data (workers = N): the primary holds no sessions, so it asks
 * every live worker over the cluster channel and merges the answers. Each question waits
 * a short while only: a stuck worker's sessions are left off the page (and logged)
 * rather than holding the page.
 */
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { LogThrottle } from '../../observability/log-throttle.js';
import { mergeSnapshots, type WorkerSnapshot } from '../../observability/admin/merge.js';
import type { AdminData, AdminSnapshot } from '../../observability/admin/views.js';
import type { AdminAnswer, AdminQuestion, PrimaryMessage } from './messages.js';

/** Long enough for a busy worker's event loop, short enough for a page that polls every second. */
const ANSWER_TIMEOUT_MS = 1000;

export interface LiveWorker {
  worker: Worker;
  /** Its slice index (what its log lines call `worker`). */
  index: number;
}

export interface WorkersAdminDataOptions {
  workers: () => LiveWorker[];
  logger: Logger;
  timeoutMs?: number;
}

export class WorkersAdminData implements AdminData {
  readonly perWorker = true;
  private readonly startedAt = Date.now();
  private readonly unanswered: LogThrottle;
  private nextId = 0;
  private collecting: Promise<AdminSnapshot> | null = null;
  /** Question id -> the asked worker's id and its settle function. */
  private readonly waiting = new Map<number, { worker: number; settle: (answer: AdminAnswer | null) => void }>();

  constructor(private readonly options: WorkersAdminDataOptions) {
    this.unanswered = new LogThrottle(options.logger);
  }

  /**
   * Requests that overlap share one round of questions: the dashboard asks for sessions,
   * bans and stats at once each second, and each would otherwise ask every worker.
   */
  snapshot(): Promise<AdminSnapshot> {
    this.collecting ??= this.collect().finally(() => (this.collecting = null));
    return this.collecting;
  }

  private async collect(): Promise<AdminSnapshot> {
    const parts = await Promise.all(
      this.options.workers().map(async (live): Promise<WorkerSnapshot | null> => {
        const answer = await this.ask(live, { kind: 'snapshot' });
        return typeof answer === 'object' && answer !== null ? { worker: { index: live.index, pid: live.worker.process.pid! }, snapshot: answer } : null;
      }),
    );
    return mergeSnapshots(parts.filter((part) => part !== null), Math.floor((Date.now() - this.startedAt) / 1000));
  }

  /** Asks every worker: session ids are unique across processes (a random prefix per process, session.ts), so only its owner has it. */
  async kick(id: string, by: string): Promise<boolean> {
    const answers = await Promise.all(this.options.workers().map((live) => this.ask(live, { kind: 'kick', id, by })));
    return answers.includes(true);
  }

  /**
   * One worker lifts the ban: its defender tells the ban relay (the primary, which lifts it
   * in every other worker) or Redis ([cluster] redis, which tells every node). The next
   * worker is asked only when one does not hold that ban.
   */
  async unban(address: string, by: string): Promise<boolean> {
    for (const live of this.options.workers()) if ((await this.ask(live, { kind: 'unban', address, by })) === true) return true;
    return false;
  }

  /** A worker's admin-answer, from the primary's cluster listener. */
  answered(id: number, answer: AdminAnswer): void {
    this.waiting.get(id)?.settle(answer);
  }

  /** A worker exited: what it was asked stays unanswered. */
  dropWorker(workerId: number): void {
    for (const { worker, settle } of [...this.waiting.values()]) if (worker === workerId) settle(null);
  }

  /** The worker's answer, or null when it is gone or did not answer in time. */
  private ask(live: LiveWorker, question: AdminQuestion): Promise<AdminAnswer | null> {
    if (!live.worker.isConnected()) return Promise.resolve(null);
    const id = ++this.nextId;
    const timeoutMs = this.options.timeoutMs ?? ANSWER_TIMEOUT_MS;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.unanswered.warn(`worker ${live.index}`, { worker: live.index, pid: live.worker.process.pid, question: question.kind, timeoutMs }, 'web admin: a worker did not answer in time; its sessions are not listed');
        settle(null);
      }, timeoutMs);
      const settle = (answer: AdminAnswer | null): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
      this.waiting.set(id, { worker: live.worker.id, settle });
      live.worker.send({ ferry: 'admin', id, question } satisfies PrimaryMessage);
    });
  }
}
