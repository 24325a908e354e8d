/**
 * Prometheus metrics on the admin listener (`[admin] listen`), scraped over HTTP after
 * real sessions: exact counts of logins, transfers, bytes and commands (unknown verbs in
 * one series), the passive-port and ban gauges, TLS handshake failures, the listener's
 * errors, and that nothing subscribes to the events while metrics are off.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasSubscribers } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createClient } from 'redis';
import { events } from '../../src/observability/events.js';
import { parseEpsvReply, type HostPort } from '../../src/protocol/address.js';
import { randomData, sha256 } from '../helpers/data.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { family, httpGet, sampleKey, scrape } from '../helpers/prometheus.js';
import { REDIS_SERVER, startRedis } from '../helpers/redis.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { PASSWORD, startServer, USER, withTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { FtpsClient } from '../tls/fixtures.js';
import { findFreePortRange } from './support.js';
import { descriptorsOn } from '../helpers/open-descriptors.js';

const scratch = scratchDirForFile('ferry-metrics-');

/** This process holds a descriptor open on `path`. */
function holdsOpen(path: string): boolean {
  return descriptorsOn(path).length > 0;
}

const ADMIN = { admin: { listen: '127.0.0.1:0' } };
/** Passive ports with passive.ports = "0" (the tests' default): the unprivileged ports. */
const ANY_PORTS = 65535 - 1024 + 1;
const CHANNELS = Object.values(events).map((channel) => channel.name as string);

function key(name: string, labels: Record<string, string> = {}): string {
  return sampleKey(name, labels);
}

/** Opens a plain data connection to the port of a 229 reply. */
async function connectData(host: string, epsvText: string): Promise<Socket> {
  const socket = connect({ host, port: parseEpsvReply(epsvText)! });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}


/** A start that should have failed but did not: stop that server (so the file does not hang on it), then fail. */
async function startedAnyway(server: TestServer): Promise<never> {
  await server.stop();
  throw new Error('the server started');
}

describe('metrics', () => {
  test('logins, transfers, bytes and commands are counted exactly; unknown verbs share one series; passive ports are gauged', () =>
    withTestServer(ADMIN, async (server) => {
      const admin = server.admin!;
      const fresh = await scrape(admin);
      assert.equal(fresh.get('ferry_sessions_active'), 0);
      assert.deepEqual(family(fresh, 'ferry_logins_total'), {
        [key('ferry_logins_total', { outcome: 'success' })]: 0,
        [key('ferry_logins_total', { outcome: 'failure' })]: 0,
        [key('ferry_logins_total', { outcome: 'refused' })]: 0,
      });
      assert.deepEqual(family(fresh, 'ferry_commands_total'), {});
      assert.equal(fresh.get('ferry_passive_ports_in_use'), 0);
      assert.equal(fresh.get('ferry_passive_ports_free'), ANY_PORTS);

      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      const wrong = await FtpConnection.connect(server.host, server.port);
      await wrong.expect(`USER ${USER}`, 331);
      await wrong.expect('PASS not-the-password', 530);
      await wrong.quit();

      await ftp.expect('TYPE I', 200);
      const data = randomData(300_000);
      assert.equal((await ftp.upload('STOR up.bin', data)).final.code, 226);
      const download = await ftp.download('RETR up.bin');
      assert.equal(download.final.code, 226);
      assert.equal(sha256(download.data), sha256(data));

      // A passive listener waits for the client: one port in use, until ABOR ends the transfer unconnected.
      await ftp.expect('EPSV', 229);
      assert.equal((await ftp.send('RETR up.bin')).code, 150);
      const pending = await scrape(admin);
      assert.equal(pending.get('ferry_passive_ports_in_use'), 1);
      assert.equal(pending.get('ferry_passive_ports_free'), ANY_PORTS - 1);
      assert.equal((await ftp.send('ABOR')).code, 426);
      assert.equal((await ftp.read()).code, 226);

      await ftp.expect('NOOP', 200);
      // 40 made-up verbs: one label value, not 40 series.
      const unknown = Array.from({ length: 40 }, (_, i) => `Q${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`);
      for (const verb of unknown) await ftp.expect(verb, 500);
      assert.ok(await waitFor(() => server.server.sessionCount === 1), 'the failed login session has closed');

      const samples = await scrape(admin);
      assert.equal(samples.get('ferry_sessions_active'), 1);
      assert.deepEqual(family(samples, 'ferry_logins_total'), {
        [key('ferry_logins_total', { outcome: 'success' })]: 1,
        [key('ferry_logins_total', { outcome: 'failure' })]: 1,
        [key('ferry_logins_total', { outcome: 'refused' })]: 0,
      });
      const transfers = family(samples, 'ferry_transfers_total');
      assert.equal(transfers[key('ferry_transfers_total', { direction: 'upload', outcome: 'complete' })], 1);
      assert.equal(transfers[key('ferry_transfers_total', { direction: 'download', outcome: 'complete' })], 1);
      assert.equal(transfers[key('ferry_transfers_total', { direction: 'download', outcome: 'aborted' })], 1);
      assert.equal(Object.values(transfers).reduce((sum, value) => sum + value, 0), 3, JSON.stringify(transfers));
      assert.deepEqual(family(samples, 'ferry_transfer_bytes_total'), {
        [key('ferry_transfer_bytes_total', { direction: 'download' })]: data.length,
        [key('ferry_transfer_bytes_total', { direction: 'upload' })]: data.length,
        [key('ferry_transfer_bytes_total', { direction: 'listing' })]: 0,
      });
      assert.equal(samples.get(key('ferry_transfer_duration_seconds_count', { direction: 'download' })), 2);
      assert.equal(samples.get(key('ferry_transfer_duration_seconds_count', { direction: 'upload' })), 1);
      assert.equal(samples.get(key('ferry_transfer_duration_seconds_bucket', { direction: 'upload', le: '+Inf' })), 1);
      assert.deepEqual(family(samples, 'ferry_commands_total'), {
        [key('ferry_commands_total', { verb: 'USER', class: '3xx' })]: 2,
        [key('ferry_commands_total', { verb: 'PASS', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'PASS', class: '5xx' })]: 1,
        [key('ferry_commands_total', { verb: 'QUIT', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'EPSV', class: '2xx' })]: 3,
        [key('ferry_commands_total', { verb: 'STOR', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'RETR', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'RETR', class: '4xx' })]: 1,
        [key('ferry_commands_total', { verb: 'ABOR', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'NOOP', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'TYPE', class: '2xx' })]: 1,
        [key('ferry_commands_total', { verb: 'OTHER', class: '5xx' })]: 40,
      });
      assert.equal(samples.get('ferry_passive_ports_in_use'), 0);
      assert.equal(typeof samples.get('ferry_nodejs_eventloop_lag_seconds'), 'number', 'event-loop lag');
      await ftp.quit();
    }));

  test('/metrics has the text format\'s content type; other paths are 404, other methods 405', () =>
    withTestServer(ADMIN, async (server) => {
      const admin = server.admin!;
      const metrics = await httpGet(admin, '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(metrics.body, /^# HELP ferry_sessions_active /m);
      assert.equal((await httpGet(admin, '/metrics?format=text')).status, 200);
      assert.equal((await httpGet(admin, '/')).status, 404);
      assert.equal((await httpGet(admin, '/metrics/extra')).status, 404);
      assert.equal((await httpGet(admin, '/metrics', 'POST')).status, 405);
    }));

  test('a ban, and a login refused for it, are counted; the banned address is gauged', () =>
    withTestServer({ ...ADMIN, defender: { threshold: 2, failed_login_delay: 0, ban_time: 60 } }, async (server) => {
      const first = await FtpConnection.connect(server.host, server.port);
      const second = await FtpConnection.connect(server.host, server.port);
      await second.expect(`USER ${USER}`, 331);
      await second.expect('PASS wrong', 530);
      await second.expect(`USER ${USER}`, 331);
      assert.equal((await second.send('PASS wrong')).code, 421, 'the second failure bans the address');
      await first.expect(`USER ${USER}`, 331);
      assert.equal((await first.send(`PASS ${PASSWORD}`)).code, 421, 'a session of the banned address is refused');
      const samples = await scrape(server.admin!);
      assert.equal(samples.get('ferry_bans_total'), 1);
      assert.equal(samples.get('ferry_banned_addresses'), 1);
      assert.equal(samples.get(key('ferry_logins_total', { outcome: 'failure' })), 2);
      assert.equal(samples.get(key('ferry_logins_total', { outcome: 'refused' })), 1);
      assert.equal(samples.get(key('ferry_logins_total', { outcome: 'success' })), 0);
      first.close();
      second.close();
    }));

  test('a password accepted for a home that cannot be opened is answered 530 and counted as a failed login', () =>
    withTestServer(
      ADMIN,
      async (server) => {
        const ftp = await FtpConnection.connect(server.host, server.port);
        await ftp.expect(`USER ${USER}`, 331);
        await ftp.expect(`PASS ${PASSWORD}`, 530);
        const samples = await scrape(server.admin!);
        assert.equal(samples.get(key('ferry_logins_total', { outcome: 'success' })), 0);
        assert.equal(samples.get(key('ferry_logins_total', { outcome: 'failure' })), 1);
        await ftp.quit();
      },
      {
        openStorage: () => {
          throw new Error('no home');
        },
      },
    ));

  test('TLS handshake failures are counted per connection: control (implicit FTPS) and data (PROT P)', () =>
    withTestServer(
      { ...ADMIN, tls: { handshake_timeout: 5 } },
      async (server) => {
        writeFileSync(join(server.root, 'f.txt'), 'hello');
        // Not TLS on the implicit FTPS port.
        const plain = connect({ host: server.host, port: server.implicitPort! });
        plain.on('error', () => undefined);
        await once(plain, 'connect');
        plain.write('USER alice\r\n');
        await once(plain, 'close');
        // Not TLS on a PROT P data connection.
        const ftps = await FtpsClient.connect(server.host, server.port);
        await ftps.authTls();
        await ftps.protect('P');
        await ftps.login();
        const epsv = await ftps.expect('EPSV', 229);
        const raw = await connectData(server.host, epsv.text);
        assert.equal((await ftps.send('RETR f.txt')).code, 150);
        raw.write('not a ClientHello\r\n');
        assert.equal((await ftps.read()).code, 425);
        raw.destroy();
        const samples = await scrape(server.admin!);
        assert.deepEqual(family(samples, 'ferry_tls_handshake_failures_total'), {
          [key('ferry_tls_handshake_failures_total', { connection: 'control' })]: 1,
          [key('ferry_tls_handshake_failures_total', { connection: 'data' })]: 1,
        });
        await ftps.quit();
      },
      { tls: true },
    ));

  test('with metrics off nothing subscribes to the events; stopping the server ends the subscriptions and closes the listener', async () => {
    await withTestServer({}, async (server) => {
      assert.equal(server.admin, null);
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      assert.deepEqual(CHANNELS.filter((name) => hasSubscribers(name)), []);
      await ftp.quit();
    });
    let admin: HostPort | null = null;
    await withTestServer(ADMIN, async (server) => {
      admin = server.admin;
      assert.ok(hasSubscribers('ferry:command'));
    });
    assert.deepEqual(CHANNELS.filter((name) => hasSubscribers(name)), []);
    await assert.rejects(httpGet(admin!, '/metrics'), { code: 'ECONNREFUSED' }, 'the admin listener closed with the server');
  });

  test('an admin port in use stops the start with an error naming admin.listen, and leaves nothing subscribed', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(startServer({ admin: { listen: `127.0.0.1:${port}` } }).then(startedAnyway), (error: Error) => {
        assert.match(error.message, new RegExp(`^admin\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
        return true;
      });
      assert.deepEqual(CHANNELS.filter((name) => hasSubscribers(name)), []);
    } finally {
      blocker.close();
    }
  });

  test('a control port in use stops the start and closes what it opened: the admin listener, the transfer log, the Redis ledger', { skip: REDIS_SERVER ? false : 'redis-server is not installed' }, async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    const { min: adminPort } = await findFreePortRange(1);
    const logPath = join(scratch(), 'xferlog');
    const redis = await startRedis();
    const probe = createClient({ url: redis.url });
    await probe.connect();
    try {
      await assert.rejects(
        startServer({ port, admin: { listen: `127.0.0.1:${adminPort}` }, log: { transfers: logPath }, cluster: { redis: redis.url } }).then(startedAnyway),
        { code: 'EADDRINUSE' },
      );
      assert.deepEqual(CHANNELS.filter((name) => hasSubscribers(name)), []);
      assert.equal(holdsOpen(logPath), false, 'the transfer log is closed');
      const admin = createServer();
      admin.listen(adminPort, '127.0.0.1');
      await once(admin, 'listening');
      admin.close();
      // Redis drops a closed client's subscription once it has read the close.
      const subscribers = async () => ((await probe.sendCommand(['PUBSUB', 'NUMSUB', 'ferry:bans'])) as [string, number])[1];
      assert.ok(await waitFor(async () => (await subscribers()) === 0), 'the ledger\'s subscriber is gone');
    } finally {
      blocker.close();
      probe.destroy();
      await redis.stop();
    }
  });
});
