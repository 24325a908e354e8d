/**
 * `workers = 2` under the real `ferry serve`: both workers serve, each from its own half
 * of the passive range; max_per_ip and bans hold across them (the primary counts); the
 * admin listener's /metrics sums them; SIGHUP reaches both, a killed worker is replaced,
 * and SIGTERM ends every process. Which worker took a connection is read from its log
 * ("session opened" names the worker and the client's port).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_BIN } from '../client/support.js';
import { logLinesIn, type LogEntry } from '../helpers/server-log.js';
import { serveWithConfig } from '../helpers/ferry-ready.js';
import { sharedCertificate } from '../helpers/certificate.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { httpGet } from '../helpers/prometheus.js';
import { stopChild } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { createTestAccount, testAccountSkipReason } from '../helpers/system-account.js';
import { addUser } from '../helpers/users-file.js';
import { waitFor } from '../helpers/timing.js';
import { findFreePortRange, passivePort } from '../integration/support.js';

const scratch = scratchDirForFile('ferry-cli-workers-');


/**
 * Two workers, anonymous logins, JSON logs; `top` adds top-level keys, `tables` tables
 * after them. A short shutdown_grace: a worker left behind by a failed test ends soon.
 */
function baseConfig(top: string[], tables: string[]): string[] {
  return ['host = "127.0.0.1"', 'port = 0', 'workers = 2', 'shutdown_grace = 1', ...top, '[anonymous]', 'enabled = true', 'root = "pub"', '[log]', 'format = "json"', 'level = "info"', ...tables];
}

/** The worker (0 or 1) that logged `connection`'s "session opened", once it has. */
async function workerOf(log: () => string, connection: FtpConnection): Promise<number> {
  const remote = `${connection.socket.localAddress}:${connection.socket.localPort}`;
  let found: LogEntry | undefined;
  assert.ok(await waitFor(() => (found = logLinesIn(log(), 'session opened').find((line) => line.remote === remote)) !== undefined, 10_000), `no session opened for ${remote}`);
  return found!.worker as number;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function workerPids(output: string): number[] {
  const match = /workers: 2 processes \(pids (\d+), (\d+)\)/.exec(output);
  assert.ok(match, `no workers line: ${output}`);
  return [Number(match[1]), Number(match[2])];
}

test('workers = 2: both serve (implicit and explicit TLS too), from disjoint passive halves; /metrics sums them; SIGHUP reaches both; a killed worker is replaced; SIGTERM ends all', async () => {
  const dir = join(scratch(), 'serve');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  const range = await findFreePortRange(8);
  const { cert, key } = sharedCertificate();
  const tls = ['[tls]', `cert = "${cert}"`, `key = "${key}"`, 'mode = "optional"', 'implicit = true', 'implicit_port = 0'];
  const lines = (banner: string) => baseConfig([`banner = "${banner}"`], ['[passive]', `ports = "${range.spec}"`, '[admin]', 'listen = "127.0.0.1:0"', ...tls]);
  const { child, port, output, log } = await serveWithConfig(dir, lines('Banner one.'));
  try {
    const pids = workerPids(output());
    const admin = /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(output());
    assert.ok(admin, output());
    // Round robin: 20 connections land in both workers.
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const connection = await FtpConnection.connect('127.0.0.1', port);
      seen.add(await workerOf(log, connection));
      await connection.quit();
    }
    assert.deepEqual([...seen].sort(), [0, 1]);
    const opened = logLinesIn(log(), 'session opened');
    assert.deepEqual([...new Set(opened.map((line) => line.pid))].sort(), [...pids].sort());

    // The implicit FTPS port is shared too, and the TLS handshakes of both kinds work in both workers.
    const implicitPort = Number(/implicit TLS on port (\d+)/.exec(output())?.[1]);
    const secured = new Set<number>();
    for (let i = 0; i < 10 && secured.size < 2; i++) {
      const implicit = await FtpConnection.connectImplicit('127.0.0.1', implicitPort, { rejectUnauthorized: false });
      assert.equal(implicit.greeting.code, 220);
      secured.add(await workerOf(log, implicit));
      await implicit.quit();
      const explicit = await FtpConnection.connect('127.0.0.1', port);
      await explicit.authTls();
      await explicit.expect('USER anonymous', 331);
      await explicit.expect('PASS a@example.com', 230);
      secured.add(await workerOf(log, explicit));
      await explicit.quit();
    }
    assert.equal(secured.size, 2);

    // One logged-in session in each worker: their passive ports come from that worker's half.
    const byWorker = new Map<number, FtpConnection>();
    const spare: FtpConnection[] = [];
    while (byWorker.size < 2) {
      const connection = await FtpConnection.login('127.0.0.1', port, 'anonymous', 'a@example.com');
      const worker = await workerOf(log, connection);
      if (byWorker.has(worker)) spare.push(connection);
      else byWorker.set(worker, connection);
    }
    for (const connection of spare) await connection.quit();
    const half = (range.min + range.max + 1) / 2;
    for (let i = 0; i < 3; i++) {
      const first = passivePort(await byWorker.get(0)!.expect('PASV', 227));
      const second = passivePort(await byWorker.get(1)!.expect('PASV', 227));
      assert.ok(first >= range.min && first < half, `worker 0's PASV port ${first} outside ${range.min}-${half - 1}`);
      assert.ok(second >= half && second <= range.max, `worker 1's PASV port ${second} outside ${half}-${range.max}`);
    }

    // /metrics on the primary sums both workers: two sessions open.
    const active = async () => {
      const { body } = await httpGet({ host: '127.0.0.1', port: Number(admin[1]) }, '/metrics');
      return Number(/^ferry_sessions_active (\d+)/m.exec(body)?.[1]);
    };
    assert.ok(await waitFor(async () => (await active()) === 2, 10_000), `ferry_sessions_active is ${await active()}, not 2`);
    for (const connection of byWorker.values()) await connection.quit();

    // SIGHUP: each worker reloads; new connections to either get the new banner.
    writeFileSync(join(dir, 'ferry.toml'), lines('Banner two.').join('\n'));
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => logLinesIn(log(), 'config reloaded').length === 2, 10_000), `not both workers reloaded: ${log()}`);
    assert.deepEqual(new Set(logLinesIn(log(), 'config reloaded').map((line) => line.worker)), new Set([0, 1]));
    const greeted = new Set<number>();
    for (let i = 0; i < 10 && greeted.size < 2; i++) {
      const connection = await FtpConnection.connect('127.0.0.1', port);
      assert.match(connection.greeting.text, /Banner two\./);
      greeted.add(await workerOf(log, connection));
      await connection.quit();
    }
    assert.equal(greeted.size, 2);

    // A killed worker: logged, replaced, and the server goes on serving from both.
    process.kill(pids[0]!, 'SIGKILL');
    assert.ok(await waitFor(() => logLinesIn(log(), 'worker restarted and listening').length === 1, 15_000), `no restart: ${log()}`);
    const [exited] = logLinesIn(log(), 'worker exited unexpectedly (signal SIGKILL); starting a new one');
    assert.equal(exited?.signal, 'SIGKILL');
    const replacement = logLinesIn(log(), 'worker restarted and listening')[0]!.pid as number;
    const after = new Set<unknown>();
    for (let i = 0; i < 10 && after.size < 2; i++) {
      const connection = await FtpConnection.connect('127.0.0.1', port);
      await workerOf(log, connection);
      after.add(logLinesIn(log(), 'session opened').at(-1)!.pid);
      await connection.quit();
    }
    assert.deepEqual([...after].sort(), [pids[1], replacement].sort());

    // SIGTERM: a graceful stop of every worker, then the primary exits 0.
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
    assert.ok(await waitFor(() => !isRunning(pids[1]!) && !isRunning(replacement), 10_000), 'a worker outlived the primary');
  } finally {
    await stopChild(child);
  }
});

test('workers = 2: max_sessions, max_per_ip and bans hold across the workers (the primary counts them)', async () => {
  const dir = join(scratch(), 'limits');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  const { child, port, log, output } = await serveWithConfig(dir, baseConfig(['max_per_ip = 4'], ['[passive]', 'ports = "0"', '[defender]', 'threshold = 3', '[user_defaults]', 'max_sessions = 2', '[admin]', 'listen = "127.0.0.1:0"']));
  try {
    // Two anonymous sessions, one in each worker: a third login is refused whichever worker takes it.
    const logins = [await FtpConnection.login('127.0.0.1', port, 'anonymous', 'a@example.com'), await FtpConnection.login('127.0.0.1', port, 'anonymous', 'b@example.com')];
    assert.deepEqual(new Set(await Promise.all(logins.map((connection) => workerOf(log, connection)))), new Set([0, 1]));
    const refusedIn = () => new Set(logLinesIn(log(), 'login refused').filter((line) => line.code === 'FERRY_ERR_TOO_MANY_SESSIONS').map((line) => line.worker));
    for (let i = 0; i < 8 && refusedIn().size < 2; i++) {
      const third = await FtpConnection.connect('127.0.0.1', port);
      await third.expect('USER anonymous', 331);
      await third.expect('PASS c@example.com', 421);
      const worker = await workerOf(log, third);
      third.close();
      assert.ok(await waitFor(() => refusedIn().has(worker), 10_000), `worker ${worker} logged no refusal`);
    }
    assert.deepEqual(refusedIn(), new Set([0, 1]));
    await logins.pop()!.quit();
    assert.ok(
      await waitFor(async () => {
        const next = await FtpConnection.connect('127.0.0.1', port);
        await next.expect('USER anonymous', 331);
        const { code } = await next.send('PASS d@example.com');
        await next.quit().catch(() => undefined);
        return code === 230;
      }, 10_000),
      'no login let in after one logged out',
    );
    await logins.pop()!.quit();

    const held: FtpConnection[] = [];
    // The sessions above may still be closing in the primary's count: until then, a 421.
    const admitted = async () => {
      let connection: FtpConnection | undefined;
      assert.ok(
        await waitFor(async () => {
          connection = await FtpConnection.connect('127.0.0.1', port);
          if (connection.greeting.code !== 220) connection.close();
          return connection.greeting.code === 220;
        }, 10_000),
        'no connection let in',
      );
      return connection!;
    };
    for (let i = 0; i < 4; i++) held.push(await admitted());
    const workers = new Set(await Promise.all(held.map((connection) => workerOf(log, connection))));
    assert.equal(workers.size, 2, 'the four sessions should span both workers');
    // Whichever worker takes them, the 5th and later connections are refused.
    for (let i = 0; i < 4; i++) {
      const refused = await FtpConnection.connect('127.0.0.1', port);
      assert.equal(refused.greeting.code, 421, refused.greeting.text);
      refused.close();
    }
    // The log lines come over the server's stderr, which may lag behind the 421s.
    const refusingWorkers = () => new Set(logLinesIn(log(), 'connection refused').filter((line) => line.code === 'FERRY_ERR_TOO_MANY_PER_ADDRESS').map((line) => line.worker));
    assert.ok(await waitFor(() => refusingWorkers().size === 2, 5000), `refused in workers ${[...refusingWorkers()].join(', ')} only`);
    // A place given back is free again.
    await held.pop()!.quit();
    (await admitted()).close();

    // Three failed logins in one worker ban the address in both: that worker reached the threshold itself.
    const failing = held[0]!;
    for (let i = 0; i < 3; i++) await failing.send('USER ferry').then(() => failing.send('PASS wrong'));
    assert.ok(await waitFor(() => logLinesIn(log(), 'address banned in every worker').length === 1, 10_000), log());
    assert.equal(logLinesIn(log(), 'address banned').length, 1, 'the worker that reached the threshold logs its ban');
    for (const connection of held) connection.close();
    assert.ok(
      await waitFor(async () => {
        const next = await FtpConnection.connect('127.0.0.1', port);
        next.close();
        assert.equal(next.greeting.code, 421, next.greeting.text);
        return new Set(logLinesIn(log(), 'connection refused').filter((line) => line.code === 'FERRY_ERR_BANNED').map((line) => line.worker)).size === 2;
      }, 10_000),
      `the ban did not refuse in both workers: ${log()}`,
    );

    // From another address, failed logins spread over both workers (at most two in each) reach
    // the threshold in the primary's count only: the primary decides the ban, both workers adopt it.
    const spread = { localAddress: '127.0.0.2' };
    const failures = new Map<number, number>();
    const failed = () => [...failures.values()].reduce((sum, count) => sum + count, 0);
    for (let i = 0; i < 12 && failed() < 3; i++) {
      const next = await FtpConnection.connect('127.0.0.1', port, spread);
      const worker = await workerOf(log, next);
      if ((failures.get(worker) ?? 0) < 2) {
        await next.expect('USER ferry', 331);
        await next.expect('PASS wrong', 530);
        failures.set(worker, (failures.get(worker) ?? 0) + 1);
      }
      await next.quit();
    }
    assert.deepEqual([...failures.keys()].sort(), [0, 1], 'failures in both workers');
    const adopted = () => logLinesIn(log(), 'address banned (by the primary)').filter((line) => line.address === '127.0.0.2');
    assert.ok(await waitFor(() => adopted().length === 2, 10_000), `both workers adopt the primary's ban: ${log()}`);
    assert.deepEqual(new Set(adopted().map((line) => line.worker)), new Set([0, 1]));
    assert.equal(logLinesIn(log(), 'address banned in every worker').length, 2);
    assert.equal(logLinesIn(log(), 'address banned').length, 1, 'no worker reached the threshold itself');
    assert.deepEqual(logLinesIn(log(), 'address banned (by another node)'), [], 'no ban came from another node');
    // Every worker holds both bans: /metrics counts each once.
    const admin = Number(/metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(output())?.[1]);
    const { body } = await httpGet({ host: '127.0.0.1', port: admin }, '/metrics');
    assert.match(body, /^ferry_bans_total 2$/m);
    assert.match(body, /^ferry_banned_addresses 2$/m);
  } finally {
    await stopChild(child);
  }
});

test('workers = 2: fewer passive ports than workers is a config error naming passive.ports', () => {
  const dir = join(scratch(), 'errors');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  writeFileSync(join(dir, 'ferry.toml'), baseConfig([], ['[passive]', 'ports = "40000-40000"']).join('\n'));
  const run = spawnSync(process.execPath, [FERRY_BIN, 'serve', '--config', join(dir, 'ferry.toml')], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /passive\.ports: 40000-40000 has 1 port\(s\) for 2 workers/);
});

/** A process's effective uid (/proc/PID/status). */
function effectiveUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return Number(line.split(/\s+/)[2]);
}

const accountSkip = testAccountSkipReason();
test('workers = 2 with run_as, started as root: every worker (a replaced one too) runs as the account; the primary keeps root to bind', { skip: accountSkip && `skipped: ${accountSkip}` }, async () => {
  const dir = join(scratch(), 'run-as');
  mkdirSync(dir, { recursive: true });
  // The account reaches its root through the scratch folders.
  for (const folder of [scratch(), dir]) chmodSync(folder, 0o755);
  const account = createTestAccount(join(dir, 'home'));
  try {
    const root = join(dir, 'root');
    mkdirSync(root);
    chownSync(root, account.uid, account.gid);
    const users = addUser(join(dir, 'users.toml'), 'alice', 'alice-secret');
    const { child, port, output, log } = await serveWithConfig(dir, ['host = "127.0.0.1"', 'port = 0', 'workers = 2', `run_as = "${account.name}"`, `root = "${root}"`, `users_file = "${users}"`, '[passive]', 'ports = "0"', '[log]', 'format = "json"', 'level = "info"']);
    try {
      const pids = workerPids(output());
      assert.equal(effectiveUid(child.pid!), 0);
      for (const pid of pids) assert.equal(effectiveUid(pid), account.uid, `worker ${pid}`);
      process.kill(pids[0]!, 'SIGKILL');
      assert.ok(await waitFor(() => logLinesIn(log(), 'worker restarted and listening').length === 1, 15_000), `no restart: ${log()}`);
      const replacement = logLinesIn(log(), 'worker restarted and listening')[0]!.pid as number;
      assert.equal(effectiveUid(replacement), account.uid, 'the replaced worker');
      // Uploads through both workers are the account's files.
      const served = new Set<number>();
      for (let i = 0; i < 6 && served.size < 2; i++) {
        const ftp = await FtpConnection.login('127.0.0.1', port, 'alice', 'alice-secret');
        served.add(await workerOf(log, ftp));
        const upload = await ftp.upload(`STOR up-${i}.txt`, Buffer.from('by the account\n'));
        assert.equal(upload.final.code, 226, upload.final.text);
        await ftp.quit();
        const stat = statSync(join(root, `up-${i}.txt`));
        assert.deepEqual([stat.uid, stat.gid], [account.uid, account.gid]);
      }
      assert.equal(served.size, 2);
    } finally {
      await stopChild(child);
    }
  } finally {
    account.remove();
  }
});
