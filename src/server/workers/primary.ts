/**
 * The primary process of `workers = N`: it serves no FTP itself. node:cluster lets it
 * own the listening sockets (the control port and the implicit FTPS port) and hand each
 * accepted connection to a worker in turn; the primary counts what must hold for the
 * whole server (connection_rate, max_clients, max_per_ip: workers ask before they let a
 * connection in; each user's max_sessions: workers ask at login), relays bans between
 * workers, serves the summed /metrics and the web admin over every worker's sessions
 * (asking each worker: workers-admin-data.ts), passes SIGTERM/SIGINT (graceful stop) and
 * SIGHUP (reload) on to every worker, and restarts a worker that dies, unless they keep
 * dying.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { FerryConfig } from '../../config/schema.js';
import { AdminServer } from '../../observability/admin-server.js';
import type { HostPort } from '../../protocol/address.js';
import { BanRelay } from './ban-relay.js';
import { ConnectionCounts } from './connection-counts.js';
import { WorkerTally } from './worker-tally.js';
import { WorkersAdminData, type LiveWorker } from './workers-admin-data.js';
import { isFerryMessage, type BoundListeners, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** The environment variable that makes `ferry serve` a worker, and says which slice is its. */
export const WORKER_INDEX_ENV = 'FERRY_WORKER_INDEX';
/** And how many workers share the passive range: the primary's count, not what the file says when a replacement starts. */
export const WORKER_COUNT_ENV = 'FERRY_WORKER_COUNT';
/** More restarts than this within RESTART_WINDOW_MS: something is wrong that a restart does not fix. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface PrimaryOptions {
  count: number;
  config: FerryConfig;
  logger: Logger;
  /** Given to every worker (the generated user's password, so all workers take the same). */
  env: Record<string, string>;
  /** The config file again (SIGHUP): the new limits, or null when it does not load (the workers say why too). */
  reload(): Promise<FerryConfig | null>;
}

export interface RunningWorkers {
  bound: BoundListeners;
  admin: HostPort | null;
  pids: number[];
}

export class Primary {
  private readonly counts: ConnectionCounts;
  /** Logged-in sessions per site and user (max_sessions; the limit comes with each login, from the users file). */
  private readonly userSessions = new WorkerTally();
  private readonly bans: BanRelay;
  /** The workers running (forked, not yet exited), by id, with their slice index. */
  private readonly live = new Map<number, LiveWorker>();
  /** The web admin's sessions and bans, asked from the workers. */
  private readonly adminData: WorkersAdminData;
  private readonly restarts: number[] = [];
  private admin: AdminServer | null = null;
  private stopping = false;
  private stopped: (() => void) | null = null;
  /** Settled when every worker first said it is ready, or when one failed to start. */
  private starting: { ready: Set<number>; bound?: BoundListeners; resolve: (bound: BoundListeners) => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly options: PrimaryOptions) {
    const { defender } = options.config;
    this.counts = new ConnectionCounts(options.config);
    this.bans = new BanRelay({ threshold: defender.threshold, observationMs: defender.observation_time * 1000, banMs: defender.ban_time * 1000 });
    this.adminData = new WorkersAdminData({ workers: () => [...this.live.values()], logger: options.logger });
  }

  /** Forks the workers; resolves once every one is listening, rejects (with the worker's exit code) when one fails to start. */
  async start(): Promise<RunningWorkers> {
    // Node's default on Linux: the primary accepts and deals connections round robin
    // (NODE_CLUSTER_SCHED_POLICY=none leaves accepting to the workers, unevenly spread).
    cluster.on('message', (worker, message) => {
      if (isFerryMessage<WorkerMessage>(message)) this.onMessage(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    const { listen, token, user, password } = this.options.config.admin;
    const webAdmin = token !== undefined || user !== undefined ? { credentials: { token, user, password }, logger: this.options.logger, data: this.adminData } : undefined;
    // Before the workers: a taken admin port stops the start, as with one process.
    if (listen) this.admin = await AdminServer.startForWorkers(listen, webAdmin);
    const bound = await new Promise<BoundListeners>((resolve, reject) => {
      this.starting = { ready: new Set(), resolve, reject };
      for (let index = 0; index < this.options.count; index++) this.fork(index);
    });
    return { bound, admin: this.admin?.address ?? null, pids: this.workers().map((worker) => worker.process.pid!) };
  }

  /** Graceful stop: every worker closes with its shutdown_grace; resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    for (const worker of this.workers()) this.send(worker, { ferry: 'stop' });
    if (this.live.size > 0) await done;
    await this.admin?.close();
  }

  /** A second signal: no more waiting. */
  kill(): void {
    for (const worker of this.workers()) worker.process.kill('SIGKILL');
  }

  /** SIGHUP: the primary's limits from the file again, and every worker reloads (each reads the file itself). */
  async reload(): Promise<void> {
    const next = await this.options.reload();
    if (next) this.counts.setLimits(next);
    for (const worker of this.workers()) this.send(worker, { ferry: 'reload' });
  }

  private workers(): Worker[] {
    return [...this.live.values()].map(({ worker }) => worker);
  }

  private fork(index: number): void {
    const worker = cluster.fork({ ...this.options.env, [WORKER_INDEX_ENV]: String(index), [WORKER_COUNT_ENV]: String(this.options.count) });
    this.live.set(worker.id, { worker, index });
  }

  private send(worker: Worker, message: PrimaryMessage): void {
    if (worker.isConnected()) worker.send(message);
  }

  private broadcast(message: PrimaryMessage, except?: Worker): void {
    for (const worker of this.workers()) if (worker !== except) this.send(worker, message);
  }

  private onMessage(worker: Worker, message: WorkerMessage): void {
    switch (message.ferry) {
      case 'enter':
        this.send(worker, { ferry: 'answer', id: message.id, refusal: this.stopping ? 'FERRY_ERR_SHUTTING_DOWN' : this.counts.enter(worker.id, message.address) });
        return;
      case 'hold': {
        const full = message.max > 0 && this.userSessions.count(message.user) >= message.max;
        if (!full) this.userSessions.take(worker.id, message.user);
        this.send(worker, { ferry: 'answer', id: message.id, refusal: full ? 'FERRY_ERR_TOO_MANY_SESSIONS' : null });
        return;
      }
      case 'unhold':
        this.userSessions.give(worker.id, message.user);
        return;
      case 'leave':
        this.counts.leave(worker.id, message.address);
        return;
      case 'abuse': {
        const until = this.bans.report(message.group);
        if (until === null) return;
        this.options.logger.warn({ address: message.group, until: new Date(until).toISOString(), event: message.event }, 'address banned in every worker');
        // Metrics are summed over the workers: only the one whose event reached the threshold counts the ban.
        this.send(worker, { ferry: 'ban', group: message.group, until, reachedHere: true });
        this.broadcast({ ferry: 'ban', group: message.group, until, reachedHere: false }, worker);
        return;
      }
      case 'forgive':
        this.bans.forgive(message.group);
        this.broadcast({ ferry: 'lifted', group: message.group }, worker);
        return;
      case 'ready':
        this.onReady(worker, message.bound);
        return;
      case 'admin-answer':
        this.adminData.answered(message.id, message.answer);
        return;
    }
  }

  private onReady(worker: Worker, bound: BoundListeners): void {
    // A replacement that was still starting when the stop went out missed it.
    if (this.stopping) return this.send(worker, { ferry: 'stop' });
    // A restarted worker enforces the bans the others do.
    for (const { group, until } of this.bans.inForce()) this.send(worker, { ferry: 'ban', group, until, reachedHere: false });
    const starting = this.starting;
    if (!starting) {
      this.options.logger.info({ worker: this.live.get(worker.id)?.index, pid: worker.process.pid }, 'worker restarted and listening');
      return;
    }
    starting.ready.add(worker.id);
    starting.bound ??= bound;
    if (starting.ready.size === this.options.count) {
      this.starting = null;
      starting.resolve(starting.bound);
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const index = this.live.get(worker.id)!.index;
    this.live.delete(worker.id);
    this.counts.dropWorker(worker.id);
    this.userSessions.dropWorker(worker.id);
    this.adminData.dropWorker(worker.id);
    if (this.stopping) {
      if (this.live.size === 0) this.stopped?.();
      return;
    }
    const fields = { worker: index, pid: worker.process.pid, code, signal };
    if (this.starting) {
      // A worker that cannot start (a config error, a taken port) says why on stderr; the others go too.
      this.stopping = true;
      this.kill();
      this.starting.reject(Object.assign(new Error(`worker ${index} exited with ${signal ?? code} while starting`), { exitCode: code ?? 1 }));
      this.starting = null;
      return;
    }
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts[0]! <= now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS) {
      this.options.logger.fatal({ ...fields, restarts: this.restarts.length, windowSeconds: RESTART_WINDOW_MS / 1000 }, 'workers keep dying; stopping the server');
      void this.stop().then(() => process.exit(1));
      return;
    }
    this.options.logger.error(fields, `worker exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); starting a new one`);
    this.fork(index);
  }
}
