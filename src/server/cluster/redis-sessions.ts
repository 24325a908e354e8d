/**
 * Per-user session counts (max_sessions) shared by several Ferry nodes through Redis
 * (`[cluster] redis`), so a user cannot open more sessions by spreading them over the
 * nodes. Each user has one hash (a field per session, valued with the node holding it);
 * each node keeps itself alive in one sorted set (scored with the Redis time its life
 * ends), refreshed every HEARTBEAT_MS for NODE_TTL_MS. A Lua script counts a user's
 * sessions on live nodes only, dropping the others, and adds the new one if under the
 * limit, atomically: a node that crashes stops counting NODE_TTL_MS after its last beat.
 * Times are Redis's own (TIME), so the nodes' clocks need not agree.
 *
 * Redis down or slow never holds a login up: past ADMIT_TIMEOUT_MS (at once when
 * disconnected) the node counts its own sessions only, logs that (once per interval), and
 * writes what Redis missed (sessions admitted meanwhile, releases that failed) at the next
 * beat that reaches it; so does a node that finds itself forgotten (Redis restarted, or
 * the node was away longer than its TTL).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { LogThrottle } from '../../observability/log-throttle.js';
import { withDeadline } from '../../util/deadline.js';

/** How often a node tells Redis it is alive; it counts as gone NODE_TTL_MS after its last beat. */
const HEARTBEAT_MS = 5000;
const NODE_TTL_MS = 3 * HEARTBEAT_MS;
/** How long a login waits for the cluster count before it falls back to this node's. */
const ADMIT_TIMEOUT_MS = 1500;
/** How long start and close wait for Redis (start goes on without it; close drops what is left to the TTL). */
const START_TIMEOUT_MS = 5000;
const CLOSE_TIMEOUT_MS = 2000;

const NODES_KEY = 'ferry:session-nodes';
const userKey = (site: string, user: string) => `ferry:sessions:${encodeURIComponent(site)}:${encodeURIComponent(user)}`;

const NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)";

/** KEYS: nodes. ARGV: node id, TTL ms. Drops dead nodes and refreshes this one; 1 when Redis did not know it alive. */
const HEARTBEAT_SCRIPT = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])`;

/** KEYS: the user's sessions, nodes. ARGV: session, node id, limit. 1: added; 0: the user has `limit` sessions on live nodes. */
const ADMIT_SCRIPT = `${NOW_MS}
local entries = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #entries, 2 do
  local alive = redis.call('ZSCORE', KEYS[2], entries[i + 1])
  if alive and tonumber(alive) > now then live = live + 1 else redis.call('HDEL', KEYS[1], entries[i]) end
end
if live >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

type Client = ReturnType<typeof createClient>;

export interface ClusterUser {
  site: string;
  user: string;
}

export class RedisSessionRegistry {
  private readonly client: Client;
  private readonly failures: LogThrottle;
  private readonly nodeId = randomBytes(6).toString('hex');
  private sessionCounter = 0;
  /** Every session this node holds (field -> the user's key), whether Redis has it or not. */
  private readonly held = new Map<string, string>();
  /** Releases Redis missed (field -> the user's key): deleted at the next beat that reaches it. */
  private readonly missedReleases = new Map<string, string>();
  /** Redis may lack some of `held`: the next beat writes them all. */
  private stale = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(private readonly options: { url: string; logger: Logger }) {
    // No offline queue: while disconnected, a command fails at once instead of waiting.
    this.client = createClient({ url: options.url, disableOfflineQueue: true });
    this.failures = new LogThrottle(options.logger);
    this.client.on('error', (error: Error) => this.warnUnshared(error));
    // A reconnection may find Redis emptied (restarted): write this node's sessions back.
    this.client.on('ready', () => {
      this.stale = true;
      void this.beat();
    });
  }

  /** Connects and announces this node; waits at most START_TIMEOUT_MS (rejecting then) while the client goes on reconnecting. */
  async start(): Promise<void> {
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS).unref();
    await withDeadline(this.client.connect().then(() => this.beat()), {
      timeoutMs: START_TIMEOUT_MS,
      onTimeout: () => new Error(`no answer from ${this.options.url} within ${START_TIMEOUT_MS / 1000} s`),
    });
  }

  /**
   * Takes one of the user's `limit` sessions across the cluster: resolves with its release,
   * or null when live nodes hold `limit` already. Resolves with a release (the caller's
   * local count then decides alone) when Redis does not answer within ADMIT_TIMEOUT_MS.
   */
  async acquire({ site, user }: ClusterUser, limit: number): Promise<(() => void) | null> {
    const key = userKey(site, user);
    const field = `${this.nodeId}:${++this.sessionCounter}`;
    /** The script's run: a release waits for it, or a late run would add the field back after the release deleted it. */
    let written: Promise<unknown> = Promise.resolve();
    try {
      if (!this.client.isReady) throw new Error('not connected');
      written = this.script(ADMIT_SCRIPT, [key, NODES_KEY], [field, this.nodeId, String(limit)]);
      const added = await withDeadline(written, { timeoutMs: ADMIT_TIMEOUT_MS, onTimeout: () => new Error(`no answer within ${ADMIT_TIMEOUT_MS} ms`) });
      if (added === 0) return null;
    } catch (error) {
      // The script may still run later (it is sent); writing the field again then is harmless.
      this.stale = true;
      this.warnUnshared(error as Error);
    }
    this.held.set(field, key);
    return () => {
      if (!this.held.delete(field)) return;
      void written.catch(() => undefined).then(() => this.forget(key, field));
    };
  }

  /** Deletes a released session from Redis, or leaves that to the next beat that reaches it. */
  private forget(key: string, field: string): void {
    const missed = () => this.missedReleases.set(field, key);
    if (!this.client.isReady) return void missed();
    this.client.hDel(key, field).catch((error: Error) => {
      missed();
      this.warnUnshared(error);
    });
  }

  /** One heartbeat at a time; a beat that finds this node forgotten or stale writes its sessions. */
  private beat(): Promise<void> {
    this.beating ??= this.refresh()
      .catch((error: Error) => this.warnUnshared(error))
      .finally(() => (this.beating = null));
    return this.beating;
  }

  private async refresh(): Promise<void> {
    if (!this.client.isReady) return;
    const forgotten = (await this.script(HEARTBEAT_SCRIPT, [NODES_KEY], [this.nodeId, String(NODE_TTL_MS)])) === 1;
    if (!forgotten && !this.stale && this.missedReleases.size === 0) return;
    this.stale = false;
    const releases = [...this.missedReleases];
    const writes = this.client.multi();
    for (const [field, key] of this.held) writes.hSet(key, field, this.nodeId);
    for (const [field, key] of releases) writes.hDel(key, field);
    try {
      await writes.exec();
    } catch (error) {
      this.stale = true;
      throw error;
    }
    for (const [field] of releases) this.missedReleases.delete(field);
  }

  /** EVALSHA, and EVAL the first time (or after Redis forgot the script). */
  private async script(source: string, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await this.client.evalSha(sha1(source), options);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.client.eval(source, options);
    }
  }

  private warnUnshared(error: Error): void {
    this.failures.warn('redis-sessions', { err: error.message, url: this.options.url }, "cluster Redis unreachable; max_sessions counts this node's sessions only meanwhile");
  }

  /** Graceful shutdown: this node's sessions and the node itself leave Redis (within CLOSE_TIMEOUT_MS), then the connection closes. */
  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.client.isReady) {
      const removal = this.client.multi();
      for (const [field, key] of [...this.held, ...this.missedReleases]) removal.hDel(key, field);
      removal.zRem(NODES_KEY, this.nodeId);
      await withDeadline(removal.exec(), { timeoutMs: CLOSE_TIMEOUT_MS, onTimeout: () => new Error('Redis too slow at shutdown') }).catch((error: Error) =>
        this.options.logger.warn({ err: error.message }, "cannot remove this node's sessions from the cluster Redis; they stop counting when its heartbeat expires"),
      );
    }
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
