/**
 * max_sessions counted across nodes through a real Redis ([cluster] redis): sessions on
 * node A count on node B, a logout on A frees a slot for B, a node killed without a word
 * stops counting once its heartbeat expires, and a Redis that is unreachable or answers
 * nothing leaves each node counting its own sessions (logins never wait long).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { serveWithConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { closedPort } from '../helpers/ports.js';
import { REDIS_SERVER, startRedis, type RedisServer } from '../helpers/redis.js';
import { stopChild } from '../helpers/run-process.js';
import { ServerLog } from '../helpers/server-log.js';
import { PASSWORD, USER, startServer, withTestServer, type TestServer } from '../helpers/server.js';
import { addUser } from '../helpers/users-file.js';
import { waitFor } from '../helpers/timing.js';

const LIMIT = { user_defaults: { max_sessions: 2 } };
/** The node heartbeat's TTL (15 s) and a generous margin for a slow machine. */
const NODE_GONE_MS = 15_000 + 15_000;

/** A login as alice on `port`: the open connection after 230, or the PASS reply code (421 when over the limit). */
async function login(port: number): Promise<FtpConnection | number> {
  const ftp = await FtpConnection.connect('127.0.0.1', port);
  await ftp.expect(`USER ${USER}`, 331);
  const answer = await ftp.send(`PASS ${PASSWORD}`);
  if (answer.code === 230) return ftp;
  ftp.close();
  return answer.code;
}

async function loggedIn(port: number): Promise<FtpConnection> {
  const result = await login(port);
  assert.ok(result instanceof FtpConnection, `login refused with ${String(result)}`);
  return result;
}

/** Each try is a whole login (a password hashed): not every 20 ms. */
const LOGIN_POLL_MS = 250;

/** Tries a login on `port` until it is answered 230 (then logs out); false when none was within `timeoutMs`. */
function eventuallyAdmitted(port: number, timeoutMs: number): Promise<boolean> {
  return waitFor(
    async () => {
      const result = await login(port);
      if (!(result instanceof FtpConnection)) return false;
      await result.quit();
      return true;
    },
    timeoutMs,
    LOGIN_POLL_MS,
  );
}

/** What a node logs when a login's cluster count went unanswered and it counts its own sessions instead. */
const OWN_COUNT = "cluster Redis unreachable; max_sessions counts this node's sessions only meanwhile";

function withNodes(config: Record<string, unknown>, fn: (a: TestServer, b: TestServer) => Promise<void>): Promise<void> {
  return withTestServer(config, (a) => withTestServer(config, (b) => fn(a, b)));
}

describe('max_sessions shared through Redis', { skip: REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server)' }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.stop());

  test('two sessions on node A: a third on node B is 421; a QUIT on A lets B in; a node stopped gracefully frees its slots at once', () =>
    withNodes({ ...LIMIT, cluster: { redis: redis.url } }, async (a, b) => {
      const one = await loggedIn(a.port);
      const two = await loggedIn(a.port);
      try {
        assert.equal(await login(b.port), 421, "node B counts node A's sessions");
        await one.quit();
        assert.ok(await eventuallyAdmitted(b.port, 5000), 'the slot A freed is free on B');
        const c = await startServer({ ...LIMIT, cluster: { redis: redis.url } });
        const onC = await loggedIn(c.port);
        try {
          assert.equal(await login(b.port), 421, 'one session on A and one on C');
        } finally {
          await c.stop();
          onC.close();
        }
        assert.ok(await eventuallyAdmitted(b.port, 8000), "C's session left Redis with C, before its heartbeat's TTL (15 s)");
      } finally {
        one.close();
        two.close();
      }
    }));

  test("a node that is killed stops counting once its heartbeat's TTL is over", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-'));
    try {
      addUser(join(dir, 'users.toml'), USER, PASSWORD);
      const killed = await serveWithConfig(dir, [
        'host = "127.0.0.1"',
        'port = 0',
        `root = ${JSON.stringify(dir)}`,
        'users_file = "users.toml"',
        '[passive]',
        'ports = "0"',
        '[user_defaults]',
        'max_sessions = 2',
        '[cluster]',
        `redis = "${redis.url}"`,
      ]);
      try {
        const held = [await loggedIn(killed.port), await loggedIn(killed.port)];
        await withTestServer({ ...LIMIT, cluster: { redis: redis.url } }, async (b) => {
          assert.equal(await login(b.port), 421, 'the live node counts the sessions on the other');
          const exited = once(killed.child, 'exit');
          killed.child.kill('SIGKILL');
          await exited;
          for (const ftp of held) ftp.close();
          const killedAt = Date.now();
          assert.equal(await login(b.port), 421, 'a node just gone still counts (it may only be slow)');
          assert.ok(await eventuallyAdmitted(b.port, NODE_GONE_MS), 'the dead node stopped counting');
          assert.ok(Date.now() - killedAt > 5000, `admitted ${Date.now() - killedAt} ms after the kill, before the TTL`);
        });
      } finally {
        await stopChild(killed.child);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a Redis that answers nothing: logins on A are answered within seconds, counted by A alone, and written to Redis once it answers", () =>
    withNodes({ ...LIMIT, cluster: { redis: redis.url } }, async (a, b) => {
      const held: FtpConnection[] = [];
      process.kill(redis.pid, 'SIGSTOP');
      try {
        for (let i = 0; i < 2; i++) {
          const started = Date.now();
          held.push(await loggedIn(a.port));
          // The 1.5 s fallback plus a login, with room; a login that waits for Redis hangs past the 10 s reply timeout.
          assert.ok(Date.now() - started < 8000, `login took ${Date.now() - started} ms`);
        }
        assert.equal(await login(a.port), 421, "A's own count still holds");
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      try {
        // A's next heartbeat (every 5 s) writes the sessions Redis missed.
        const refusedOnB = async () => {
          const result = await login(b.port);
          if (result instanceof FtpConnection) await result.quit();
          return result === 421;
        };
        assert.ok(await waitFor(refusedOnB, 15_000, LOGIN_POLL_MS), "node B learns A's sessions once Redis answers again");
      } finally {
        for (const ftp of held) ftp.close();
      }
    }));

  test('a connection that closes while its login waits for Redis leaves no slot held, on the node or in Redis', () => {
    const log = new ServerLog();
    return withTestServer(
      { user_defaults: { max_sessions: 1 }, log: { level: 'debug' }, cluster: { redis: redis.url } },
      async (server) => {
        // As after a Redis restart: the node's script is sent again (NOSCRIPT, then EVAL), and
        // runs after anything sent meanwhile; the release must still come after it.
        const admin = await createClient({ url: redis.url }).connect();
        await admin.scriptFlush();
        await admin.close();
        const logged = (msg: string) => log.entries.some((entry) => entry.msg === msg);
        process.kill(redis.pid, 'SIGSTOP');
        try {
          const gone = await FtpConnection.connect('127.0.0.1', server.port);
          await gone.expect(`USER ${USER}`, 331);
          gone.writeRaw(`PASS ${PASSWORD}\r\n`);
          // Closed once the server has read the PASS: its login goes on to the cluster count, which Redis cannot answer.
          assert.ok(await waitFor(() => logged('--> PASS ****')), 'the server never read the PASS');
          gone.close();
          // Past the login's wait for Redis (1.5 s), the node admits it on its own count, says so, and gives the slot back.
          assert.ok(await waitFor(() => logged(OWN_COUNT), 10_000), `no fallback to the node's own count: ${log.entries.map((entry) => entry.msg).join(' | ')}`);
        } finally {
          process.kill(redis.pid, 'SIGCONT');
        }
        assert.ok(await eventuallyAdmitted(server.port, 5000), 'the only slot is free');
      },
      { logTo: log.destination },
    );
  });
});

test('an unreachable cluster Redis: logins work with the node-local max_sessions, and a warning says so', async () => {
  const log = new ServerLog();
  await withTestServer(
    { user_defaults: { max_sessions: 1 }, log: { level: 'warn' }, cluster: { redis: `redis://127.0.0.1:${await closedPort()}` } },
    async (server) => {
      const one = await loggedIn(server.port);
      try {
        assert.equal(await login(server.port), 421, 'the local limit');
        assert.ok(
          log.entries.some((entry) => entry.msg.includes("max_sessions counts this node's sessions only")),
          log.entries.map((entry) => entry.msg).join(' | '),
        );
      } finally {
        one.close();
      }
    },
    { logTo: log.destination },
  );
});
