/**
 * A worker's side of the IPC channel to the primary: the connection gate (the primary
 * counts connection_rate, max_clients and max_per_ip for all workers: one round trip per
 * accepted connection), the users' session count (max_sessions: one round trip per
 * login), the shared ban ledger (events go up, bans come down) and the primary's web
 * admin (it asks for this worker's sessions and bans, and to kick or unban here).
 */
import type { ErrorCode } from '../../errors.js';
import type { AdminData } from '../../observability/admin/views.js';
import type { ConnectionGate, SharedBanLedger } from '../connection-gate.js';
import type { AbuseEvent, Defender } from '../defender.js';
import type { SharedSessionCount } from '../limits/user-allowances.js';
import { isFerryMessage, type AdminAnswer, type AdminQuestion, type PrimaryMessage, type WorkerMessage } from './messages.js';

export function sendToPrimary(message: WorkerMessage): void {
  // The channel closes when the primary is gone; the worker is stopping then.
  if (process.connected) process.send!(message);
}

/** Questions to the primary, each answered once, in any order (one per worker process). */
export class PrimaryQuestions {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (refusal: ErrorCode | null) => void; unanswered: ErrorCode }>();

  constructor() {
    process.on('message', (message) => {
      if (!isFerryMessage<PrimaryMessage>(message) || message.ferry !== 'answer') return;
      this.waiting.get(message.id)?.resolve(message.refusal);
      this.waiting.delete(message.id);
    });
    // The primary died after a question went out: its answer never comes, and a
    // connection waiting at the gate would hold the worker's shutdown open forever.
    process.once('disconnect', () => {
      for (const { resolve, unanswered } of this.waiting.values()) resolve(unanswered);
      this.waiting.clear();
    });
  }

  /** `unanswered`: the refusal when the primary is gone (nobody counts then: refuse rather than exceed the limits). */
  ask(question: (id: number) => WorkerMessage, unanswered: ErrorCode): Promise<ErrorCode | null> {
    if (!process.connected) return Promise.resolve(unanswered);
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, unanswered });
      sendToPrimary(question(id));
    });
  }
}

export class PrimaryGate implements ConnectionGate {
  constructor(private readonly questions: PrimaryQuestions) {}

  enter(address: string): Promise<ErrorCode | null> {
    return this.questions.ask((id) => ({ ferry: 'enter', id, address }), 'FERRY_ERR_SHUTTING_DOWN');
  }

  leave(address: string): void {
    sendToPrimary({ ferry: 'leave', address });
  }
}

/** max_sessions across workers: every login takes its place in the primary's count. */
export class PrimarySessionCount implements SharedSessionCount {
  constructor(private readonly questions: PrimaryQuestions) {}

  async hold(user: string, max: number): Promise<(() => void) | null> {
    const refusal = await this.questions.ask((id) => ({ ferry: 'hold', id, user, max }), 'FERRY_ERR_TOO_MANY_SESSIONS');
    return refusal ? null : () => sendToPrimary({ ferry: 'unhold', user });
  }
}

export class PrimaryBanLedger implements SharedBanLedger {
  private readonly onMessage = (message: unknown): void => {
    if (!isFerryMessage<PrimaryMessage>(message) || !this.defender) return;
    if (message.ferry === 'ban') this.defender.adoptBan(message.group, message.until, { by: 'the primary', reachedHere: message.reachedHere });
    else if (message.ferry === 'lifted') this.defender.forgetBan(message.group, 'another worker');
  };
  private defender: Defender | null = null;
  /** The primary hears every event and decides each ban: it tells the worker whose event reached the threshold to count it. */
  readonly decidesEveryBan = true;

  /** The bans in force arrive as messages once the worker says it is ready. */
  async start(defender: Defender): Promise<void> {
    this.defender = defender;
    process.on('message', this.onMessage);
  }

  report(group: string, event: AbuseEvent): void {
    sendToPrimary({ ferry: 'abuse', group, event });
  }

  forgive(group: string): void {
    sendToPrimary({ ferry: 'forgive', group });
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    this.defender = null;
  }
}

function answerOf(data: AdminData, question: AdminQuestion): Promise<AdminAnswer> {
  switch (question.kind) {
    case 'snapshot':
      return data.snapshot();
    case 'kick':
      return data.kick(question.id, question.by);
    case 'unban':
      return data.unban(question.address, question.by);
  }
}

/** Answers the primary's web admin from this worker's own data (its sessions, its defender). */
export class PrimaryAdminLink {
  private data: AdminData | null = null;
  private readonly onMessage = (message: unknown): void => {
    if (!isFerryMessage<PrimaryMessage>(message) || message.ferry !== 'admin' || !this.data) return;
    const { id, question } = message;
    answerOf(this.data, question).then(
      (answer) => sendToPrimary({ ferry: 'admin-answer', id, answer }),
      // Unanswered: the primary's wait runs out and it shows the other workers' data.
      () => undefined,
    );
  };

  serve(data: AdminData): void {
    this.data = data;
    process.on('message', this.onMessage);
  }

  close(): void {
    process.off('message', this.onMessage);
    this.data = null;
  }
}
