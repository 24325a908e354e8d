/**
 * Bans shared across nodes through a real Redis ([cluster] redis): failed logins spread
 * over two nodes add up, so an attacker cannot rotate through the nodes behind a load
 * balancer; a node started later takes over the bans in force. Without Redis, the same
 * failures ban nobody.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { REDIS_SERVER, startRedis, type RedisServer } from '../helpers/redis.js';
import { USER, withTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { events, type BanEvent } from '../../src/observability/events.js';
import { closedPort } from '../helpers/ports.js';

const DEFENDER = { defender: { threshold: 4, failed_login_delay: 0 }, max_login_failures: 10 };

/** Two wrong passwords on one connection. */
async function failTwice(server: TestServer): Promise<void> {
  const ftp = await FtpConnection.connect(server.host, server.port);
  for (let i = 0; i < 2; i++) {
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS wrong', 530);
  }
  await ftp.quit();
}

/** The greeting code a new connection gets (421 when the address is banned). */
async function greetingCode(server: TestServer): Promise<number> {
  const ftp = await FtpConnection.connect(server.host, server.port);
  const code = ftp.greeting.code;
  ftp.close();
  return code;
}

/** Runs `fn` with two servers (the "nodes") on the same extra config. */
function withNodes(config: Record<string, unknown>, fn: (a: TestServer, b: TestServer) => Promise<void>): Promise<void> {
  return withTestServer(config, (a) => withTestServer(config, (b) => fn(a, b)));
}

describe('bans shared through Redis', { skip: REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.stop());

  test('2 failed logins on node A and 2 on node B reach the threshold of 4: both nodes, and a node started later, refuse the address; the ban is counted once', () =>
    withNodes({ ...DEFENDER, cluster: { redis: redis.url } }, async (a, b) => {
      // Both nodes run in this process: every node's ban events arrive here.
      const bans: BanEvent[] = [];
      const onBan = (message: unknown) => bans.push(message as BanEvent);
      subscribe(events.ban.name, onBan);
      try {
        await failTwice(a);
        assert.equal(await greetingCode(a), 220, 'two failures alone ban nobody');
        await failTwice(b);
        assert.ok(await waitFor(async () => (await greetingCode(a)) === 421, 10_000), 'node A bans the address node B saw last');
        assert.equal(await greetingCode(b), 421);
        // Node B's event took the count in Redis to the threshold (neither node's own count got there): B counts it, A only enforces it.
        assert.deepEqual(bans.map((ban) => ban.adopted).sort(), [false, true], 'counted (ferry_bans_total) by one node only');
        await withTestServer({ ...DEFENDER, cluster: { redis: redis.url } }, async (c) => {
          assert.equal(await greetingCode(c), 421, 'a node that starts later takes over the ban');
        });
      } finally {
        unsubscribe(events.ban.name, onBan);
      }
    }));
});

test('without [cluster] redis, failures on two nodes are counted apart and ban nobody', () =>
  withNodes(DEFENDER, async (a, b) => {
    await failTwice(a);
    await failTwice(b);
    assert.equal(await greetingCode(a), 220);
    assert.equal(await greetingCode(b), 220);
  }));

test('an unreachable cluster Redis delays the start by at most 5 s, and the node serves and bans on its own', async () => {
  const started = Date.now();
  await withTestServer({ ...DEFENDER, cluster: { redis: `redis://127.0.0.1:${await closedPort()}` } }, async (server) => {
    // Without the 5 s bound the start would wait for Redis forever; the rest is room for a loaded machine.
    assert.ok(Date.now() - started < 15_000, `started after ${Date.now() - started} ms`);
    await failTwice(server);
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS wrong', 530);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS wrong', 421); // the fourth failure reaches the threshold
    ftp.close();
    assert.equal(await greetingCode(server), 421, 'the local defender still bans');
  });
});
