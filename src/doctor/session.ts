/**
 * One control connection as the doctor drives it: every wait is bounded by the probe's
 * step timeout, and a reply that has not come yet is kept for the next read instead of
 * closing the connection (the client library closes it, which is right for transfers
 * but would end the diagnosis at the first slow server).
 */
import type { ControlConnection } from '../client/control.js';
import type { FtpResponse } from '../client/reply-parser.js';
import type { ServerReply } from './types.js';

export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`; a later rejection is swallowed. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function replyOf(response: FtpResponse): ServerReply {
  return { code: response.code, text: response.message.split('\n').pop()!.trim() };
}

export function showReply(reply: ServerReply): string {
  return `${reply.code} ${reply.text}`;
}

export class DoctorSession {
  private pending: Promise<FtpResponse> | null = null;
  /** PROT P is in force: data connections are TLS. */
  protectedData = false;

  constructor(
    readonly control: ControlConnection,
    readonly stepMs: number,
    /** TLS options for protected data connections. */
    readonly tls: { servername: string; ca?: string[] } | null,
  ) {}

  get closed(): boolean {
    return this.control.closed;
  }

  /** The next reply, without taking it: the following `nextReply()` still returns it. */
  upcoming(): Promise<FtpResponse> {
    this.pending ??= this.control.read();
    this.pending.catch(() => undefined);
    return this.pending;
  }

  /** Takes the next reply within `ms`, or returns null; an unanswered wait carries over to the next call. */
  async nextReply(ms = this.stepMs): Promise<FtpResponse | null> {
    const pending = this.upcoming();
    const reply = await within(pending, ms);
    if (reply === TIMED_OUT) return null;
    this.pending = null;
    return reply;
  }

  write(command: string): void {
    this.control.write(command);
  }

  /** Sends a command and returns its reply; a missing reply closes the connection (the dialogue is out of step). */
  async send(command: string): Promise<FtpResponse> {
    if (this.pending) throw new Error(`cannot send ${command.split(' ')[0]}: a reply is still outstanding`);
    this.write(command);
    const reply = await this.nextReply();
    if (reply === null) {
      this.close();
      throw new Error(`no reply to ${command.split(' ')[0]} within ${this.stepMs / 1000} s`);
    }
    return reply;
  }

  /**
   * After a transfer that went wrong: ABOR, then NOOP as a marker, reading replies until
   * the NOOP's 200, so the dialogue is back in step whatever the transfer and the ABOR
   * answered (426, 225, 226, a late 425). Closes the connection when that does not work.
   */
  async resync(): Promise<void> {
    try {
      this.write('ABOR');
      this.write('NOOP');
      for (let i = 0; i < 6; i++) {
        const reply = await this.nextReply();
        if (reply === null) break;
        if (reply.code === 200) return;
      }
    } catch {
      // the connection is gone: closed below
    }
    this.close();
  }

  async quit(): Promise<void> {
    if (!this.closed && !this.pending) await within(this.control.send('QUIT'), Math.min(this.stepMs, 2000)).catch(() => undefined);
    this.close();
  }

  close(): void {
    this.control.close();
  }
}
