/**
 * [hooks]: subscribes to the observability channels, maps each event to the actions that
 * want it, and runs them through a bounded queue with bounded concurrency. Publishing
 * only enqueues, so a slow hook never holds up an FTP session; a full queue drops the
 * run (counted, logged at most once per interval); a failing run logs one line with
 * FERRY_ERR_HOOK and the reason.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { events, type FileOperationEvent, type LoginEvent, type SessionSummary, type TransferEvent } from '../events.js';
import { settledWithin } from '../../util/settled-within.js';
import { LogThrottle } from '../log-throttle.js';
import { runCommandHook } from './command-hook.js';
import { fromFileOperation, fromLogin, fromSessionClosed, fromTransfer, type HookEvent, type HookEventName } from './hook-event.js';
import { postHook } from './http-hook.js';

export interface HookAction {
  events: readonly HookEventName[];
  command?: readonly string[];
  url?: string;
}

export interface HooksConfig {
  queue: number;
  concurrency: number;
  /** Seconds per run. */
  timeout: number;
  actions: readonly HookAction[];
}

export interface HookDispatcherOptions {
  config: HooksConfig;
  logger: Logger;
  /** Which sessions are this server's (a process may run several servers, all publishing on one channel). */
  accepts(session: SessionSummary): boolean;
}

interface Run {
  action: HookAction;
  event: HookEvent;
}

export class HookDispatcher {
  private readonly waiting: Run[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly throttle: LogThrottle;
  /** Runs dropped because the queue was full, since the start. */
  dropped = 0;

  private readonly subscriptions: [string | symbol, (message: unknown) => void][] = [
    [events.transfer.name, (message) => this.offer((message as TransferEvent).session, fromTransfer(message as TransferEvent))],
    [events.login.name, (message) => this.offer((message as LoginEvent).session, fromLogin(message as LoginEvent))],
    [events.sessionClosed.name, (message) => this.offer((message as { session: SessionSummary }).session, fromSessionClosed((message as { session: SessionSummary }).session))],
    [events.fileOperation.name, (message) => this.offer((message as FileOperationEvent).session, fromFileOperation(message as FileOperationEvent))],
  ];

  constructor(private readonly options: HookDispatcherOptions) {
    this.throttle = new LogThrottle(options.logger);
    for (const [name, handler] of this.subscriptions) subscribe(name, handler);
  }

  /** Stops taking events, drops what waits, and waits up to `graceMs` for the running hooks. */
  async close(graceMs: number): Promise<void> {
    for (const [name, handler] of this.subscriptions) unsubscribe(name, handler);
    this.waiting.length = 0;
    await settledWithin([...this.running], graceMs);
  }

  private offer(session: SessionSummary, event: HookEvent | null): void {
    if (!event || !this.options.accepts(session)) return;
    for (const action of this.options.config.actions) {
      if (!action.events.includes(event.event)) continue;
      if (this.waiting.length >= this.options.config.queue) {
        this.dropped++;
        this.throttle.warn('hook-queue-full', { code: 'FERRY_ERR_HOOK', reason: `hook queue full (${this.options.config.queue} waiting): run dropped`, event: event.event, dropped: this.dropped }, 'hook dropped');
        continue;
      }
      this.waiting.push({ action, event });
    }
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.options.config.concurrency && this.waiting.length > 0) {
      const run = this.waiting.shift()!;
      const done: Promise<void> = this.execute(run).finally(() => {
        this.running.delete(done);
        this.pump();
      });
      this.running.add(done);
    }
  }

  private async execute({ action, event }: Run): Promise<void> {
    const timeoutMs = this.options.config.timeout * 1000;
    const target = action.command ? action.command[0] : action.url;
    try {
      if (action.command) await runCommandHook(action.command, event, timeoutMs);
      else await postHook(action.url!, event, timeoutMs);
    } catch (error) {
      this.options.logger.warn({ code: 'FERRY_ERR_HOOK', reason: (error as Error).message, hook: target, event: event.event, path: event.path }, 'hook failed');
    }
  }
}
