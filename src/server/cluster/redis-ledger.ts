/**
 * Bans shared by several Ferry nodes through Redis (`[cluster] redis`), so an attacker
 * cannot rotate through the nodes behind a load balancer: every node counts each abusive
 * event of an address in Redis too (one key per address, expiring with the observation
 * window); the node whose event reaches the threshold stores the ban (expiring with the
 * ban time), bans and counts it (ferry_bans_total) and publishes it, and every other node
 * bans the address locally without counting it. A node that starts
 * takes over the bans in force. A ban an administrator lifts (the web admin) is deleted and
 * its lifting published the same way, so every node lifts it. The local defender keeps working when Redis is away:
 * sharing failures are logged (once per interval) and the node defends itself alone.
 */
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { LogThrottle } from '../../observability/log-throttle.js';
import { withDeadline } from '../../util/deadline.js';
import type { AbuseEvent, AbuseLedger, BanOrigin, Defender } from '../defender.js';

const BAN_CHANNEL = 'ferry:bans';
/** How long a node waits for Redis at start before it serves (and defends itself) alone. */
const START_TIMEOUT_MS = 5000;
const banKey = (group: string) => `ferry:ban:${group}`;
const scoreKey = (group: string) => `ferry:abuse:${group}`;
const FROM_REDIS: BanOrigin = { by: 'another node', reachedHere: false };
/** This node's event took the shared count to the threshold: it bans and counts (unless it had banned the address itself). */
const DECIDED_HERE: BanOrigin = { by: 'the cluster count', reachedHere: true };

type Client = ReturnType<typeof createClient>;

export interface RedisLedgerOptions {
  url: string;
  threshold: number;
  observationMs: number;
  banMs: number;
  logger: Logger;
}

export class RedisAbuseLedger implements AbuseLedger {
  private readonly client: Client;
  private readonly subscriber: Client;
  private readonly failures: LogThrottle;
  private defender: Defender | null = null;

  constructor(private readonly options: RedisLedgerOptions) {
    this.client = createClient({ url: options.url });
    this.subscriber = this.client.duplicate();
    this.failures = new LogThrottle(options.logger);
    for (const client of [this.client, this.subscriber]) {
      client.on('error', (error: Error) => this.failures.warn('redis', { err: error.message, url: options.url }, 'cluster Redis unreachable; bans are not shared meanwhile'));
    }
  }

  /**
   * Connects, listens for the other nodes' bans and takes over those in force; waits at
   * most START_TIMEOUT_MS (rejecting then) while the clients go on reconnecting: the
   * subscription waits in their queue, so it takes effect whenever Redis answers.
   */
  async start(defender: Defender): Promise<void> {
    this.defender = defender;
    const connected = Promise.all([this.client.connect(), this.subscriber.connect()]);
    const subscribed = this.subscriber.subscribe(BAN_CHANNEL, (message) => this.onBan(message));
    await withDeadline(
      Promise.all([connected, subscribed]).then(() => this.adoptBansInForce(defender)),
      { timeoutMs: START_TIMEOUT_MS, onTimeout: () => new Error(`no answer from ${this.options.url} within ${START_TIMEOUT_MS / 1000} s`) },
    );
  }

  private async adoptBansInForce(defender: Defender): Promise<void> {
    for await (const keys of this.client.scanIterator({ MATCH: banKey('*'), COUNT: 100 })) {
      for (const key of keys) {
        const until = Number(await this.client.get(key));
        if (until > Date.now()) defender.adoptBan(key.slice(banKey('').length), until, FROM_REDIS);
      }
    }
  }

  report(group: string, event: AbuseEvent): void {
    void this.count(group, event).catch((error: Error) => this.failures.warn('redis', { err: error.message }, 'cannot share an abuse event through Redis'));
  }

  private async count(group: string, event: AbuseEvent): Promise<void> {
    if (!this.client.isReady) return;
    const score = await this.client.incr(scoreKey(group));
    if (score === 1) await this.client.pExpire(scoreKey(group), this.options.observationMs);
    if (score < this.options.threshold) return;
    const until = Date.now() + this.options.banMs;
    // Only the first node to see the threshold stores and announces the ban.
    const stored = await this.client.set(banKey(group), String(until), { PX: this.options.banMs, NX: true });
    if (stored === null) return;
    // Before the announcement comes back to this node too (as a ban it then already holds).
    this.defender?.adoptBan(group, until, DECIDED_HERE);
    await this.client.del(scoreKey(group));
    await this.client.publish(BAN_CHANNEL, JSON.stringify({ group, until, event }));
  }

  forgive(group: string): void {
    void this.lift(group).catch((error: Error) => this.failures.warn('redis', { err: error.message }, 'cannot lift a ban through Redis'));
  }

  private async lift(group: string): Promise<void> {
    if (!this.client.isReady) return;
    await this.client.del([banKey(group), scoreKey(group)]);
    await this.client.publish(BAN_CHANNEL, JSON.stringify({ group, lifted: true }));
  }

  private onBan(message: string): void {
    try {
      const { group, until, lifted } = JSON.parse(message) as { group: string; until?: number; lifted?: boolean };
      if (typeof group !== 'string') throw new Error('no group');
      if (lifted === true) this.defender?.forgetBan(group, 'another node');
      else if (typeof until === 'number') this.defender?.adoptBan(group, until, FROM_REDIS);
    } catch {
      this.failures.warn('redis-message', { message: message.slice(0, 100) }, 'ignored a malformed ban message on Redis');
    }
  }

  /** Closes both connections; one still trying to reach Redis is dropped at once (it would wait forever). */
  async close(): Promise<void> {
    await Promise.all(
      [this.client, this.subscriber].map((client) => {
        if (client.isReady) return client.close();
        if (client.isOpen) client.destroy();
        return undefined;
      }),
    );
  }
}
