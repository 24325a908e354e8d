/**
 * Unban from the web admin with bans shared through a real Redis ([cluster] redis): the
 * node that lifts a ban deletes it in Redis and announces it, so the other nodes lift it
 * too and a node started later does not take it over.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { REDIS_SERVER, startRedis, type RedisServer } from '../helpers/redis.js';
import { USER, withTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { adminFetch, bearer, startAdminServer } from '../helpers/web-admin.js';

const DEFENDER = { defender: { threshold: 2, failed_login_delay: 0 } };

async function greetingCode(server: TestServer): Promise<number> {
  const ftp = await FtpConnection.connect(server.host, server.port);
  const code = ftp.greeting.code;
  ftp.close();
  return code;
}

describe('web admin unban across nodes', { skip: REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.stop());

  test('a ban lifted on node A is lifted on node B, and a node started later does not take it over', async () => {
    const config = { ...DEFENDER, cluster: { redis: redis.url } };
    const a = await startAdminServer(config);
    try {
      await withTestServer(config, async (b) => {
        const ftp = await FtpConnection.connect(b.host, b.port);
        for (let i = 0; i < 2; i++) {
          await ftp.expect(`USER ${USER}`, 331);
          await ftp.send('PASS wrong');
        }
        ftp.close();
        assert.ok(await waitFor(async () => (await greetingCode(a)) === 421, 5000), 'node A took over the ban node B made');
        const unban = await adminFetch(a.base, '/api/bans/127.0.0.1/unban', { method: 'POST', headers: bearer });
        assert.equal(unban.status, 200);
        assert.equal(await greetingCode(a), 220);
        assert.ok(await waitFor(async () => (await greetingCode(b)) === 220, 5000), 'node B lifted it too');
        await withTestServer(config, async (c) => {
          assert.equal(await greetingCode(c), 220, 'Redis no longer holds the ban');
        });
      });
    } finally {
      await a.stop();
    }
  });
});
