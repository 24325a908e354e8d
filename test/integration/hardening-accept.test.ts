/**
 * Hardening at accept and at login: refused connections are destroyed (never left to
 * the peer), the per-address connection rate, the descriptor reserve for logged-in
 * sessions (a real `ferry serve` under a small RLIMIT_NOFILE), the failed-login delay
 * and the defender's bans.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { waitForReady } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { killOnExit, stopChild } from '../helpers/run-process.js';
import { PASSWORD, USER, withTestServer } from '../helpers/server.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { sleep, waitFor, withTimeout } from '../helpers/timing.js';

/** What a raw client saw first: a reply code, or the end of the connection. */
interface RawClient {
  socket: Socket;
  first: Promise<string>;
  /** Resolves when the client has seen the server's FIN (half-open clients stay open). */
  ended: Promise<void>;
}

/**
 * A client that never closes its side by itself (allowHalfOpen), like a flooder: only
 * the server can free the connection.
 */
function rawClient(host: string, port: number, localAddress?: string): RawClient {
  const socket = connect({ host, port, localAddress, allowHalfOpen: true });
  socket.on('error', () => undefined);
  const first = new Promise<string>((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    socket.once('end', () => resolve('end'));
    socket.once('close', () => resolve('close'));
  });
  const ended = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
  });
  return { socket, first, ended };
}

/** True when the server has destroyed its end: a write from us is answered with a reset. */
async function destroyedByServer(client: RawClient, timeoutMs = 3000): Promise<boolean> {
  // Not events.once: the reset arrives as an 'error' (EPIPE, ECONNRESET) before 'close'.
  const closed = new Promise<true>((resolve) => client.socket.once('close', () => resolve(true)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !client.socket.destroyed) {
    client.socket.write('NOOP\r\n');
    const done = await Promise.race([closed, sleep(200).then(() => false)]);
    if (done) return true;
  }
  const destroyed = client.socket.destroyed;
  // Either way the test frees it (else the old code's half-open socket would outlive the server).
  client.socket.destroy();
  return destroyed;
}

/** Every test here is bounded, whatever the server does. */
const BOUNDED = { timeout: 30_000 };

describe('refused connections', () => {
  test('over max_clients: 421, then the server destroys the socket without waiting for the peer', BOUNDED, () =>
    withTestServer({ max_clients: 1 }, async (server) => {
      const inside = await FtpConnection.connect(server.host, server.port);
      const refused = rawClient(server.host, server.port);
      assert.match(await refused.first, /^421 /);
      assert.equal(await destroyedByServer(refused), true, 'the refused socket was left open for the peer to close');
      await inside.quit();
    }));

  test('limits.connection_rate: past the burst an address gets 421 "slow down" and is closed; others are not affected', BOUNDED, () =>
    withTestServer({ limits: { connection_rate: 0.5, connection_burst: 3 } }, async (server) => {
      const admitted: FtpConnection[] = [];
      for (let i = 0; i < 3; i++) {
        const ftp = await FtpConnection.connect(server.host, server.port);
        assert.equal(ftp.greeting.code, 220);
        admitted.push(ftp);
      }
      const over = await FtpConnection.connect(server.host, server.port);
      assert.equal(over.greeting.code, 421);
      assert.match(over.greeting.text, /slow down/);
      assert.equal(await over.closedByServer(), true);
      over.socket.destroy();
      const other = await FtpConnection.connect(server.host, server.port, { localAddress: '127.0.0.2' });
      assert.equal(other.greeting.code, 220);
      await other.quit();
      for (const ftp of admitted) await ftp.quit();
    }));
});

describe('defender', () => {
  const defended = { max_login_failures: 5, defender: { threshold: 3, failed_login_delay: 0, ban_time: 60 } };

  test('failed logins from one address across sessions ban it: 421 at PASS and at accept; other addresses still log in as the same user', BOUNDED, () =>
    withTestServer(defended, async (server) => {
      const first = await FtpConnection.connect(server.host, server.port);
      const second = await FtpConnection.connect(server.host, server.port);
      for (const ftp of [first, first]) {
        await ftp.expect(`USER ${USER}`, 331);
        await ftp.expect('PASS wrong', 530);
      }
      await second.expect('USER someone-else', 331);
      const banning = await second.send('PASS wrong');
      assert.equal(banning.code, 421, `third failure from the address: ${banning.lines.join(' | ')}`);
      assert.equal(await second.closedByServer(), true);
      // An ongoing session of the banned address: even the right password is refused.
      await first.expect(`USER ${USER}`, 331);
      assert.equal((await first.send(`PASS ${PASSWORD}`)).code, 421);
      assert.equal(await first.closedByServer(), true);
      const again = rawClient(server.host, server.port);
      assert.match(await again.first, /^421 /);
      assert.equal(await destroyedByServer(again), true);
      // No user lockout: the ban is the address's, not alice's.
      const elsewhere = await FtpConnection.login(server.host, server.port, USER, PASSWORD, { localAddress: '127.0.0.2' });
      await elsewhere.quit();
    }));

  /** Runs `fn` with the client address of every password check ('ferry:login' is published once per authenticate). */
  async function countingChecks(fn: (checks: string[]) => Promise<void>): Promise<void> {
    const checks: string[] = [];
    const onLogin = (message: unknown) => checks.push((message as { session: { remoteAddress: string } }).session.remoteAddress);
    subscribe('ferry:login', onLogin);
    try {
      await fn(checks);
    } finally {
      unsubscribe('ferry:login', onLogin);
    }
  }

  test('a wave of parallel PASS from one address hashes at most `threshold` passwords, the rest get 421; another address logs in meanwhile', BOUNDED, () =>
    withTestServer({ defender: { threshold: 5, failed_login_delay: 0, ban_time: 60 } }, (server) =>
      countingChecks(async (checks) => {
        const wave = await Promise.all(Array.from({ length: 60 }, () => FtpConnection.connect(server.host, server.port)));
        for (const ftp of wave) ftp.writeRaw('USER x\r\nPASS wrong\r\n');
        // Meanwhile, from another address: a login that must not queue behind the wave's hashes.
        const started = Date.now();
        const bystander = await FtpConnection.login(server.host, server.port, USER, PASSWORD, { localAddress: '127.0.0.2' });
        const bystanderMs = Date.now() - started;
        await bystander.quit();
        const answers = await Promise.all(
          wave.map(async (ftp) => {
            assert.equal((await ftp.read()).code, 331);
            const reply = await ftp.read();
            ftp.close();
            return reply;
          }),
        );
        const fromAttacker = checks.filter((address) => address === '127.0.0.1').length;
        assert.ok(fromAttacker <= 5, `${fromAttacker} password checks ran for the wave (threshold 5)`);
        // Room for a loaded machine: the cap itself is checked by fromAttacker above.
        assert.ok(bystanderMs < 10_000, `the other address logged in after ${bystanderMs} ms`);
        assert.ok(answers.every((reply) => reply.code === 530 || reply.code === 421), answers.map((reply) => reply.code).join(' '));
        assert.ok(answers.filter((reply) => /logins in progress/.test(reply.text)).length >= 50, 'the rest are refused without hashing');
      })));

  test('a check in flight is released when it settles, also after its session closed mid-check (defender disabled: the cap still holds)', BOUNDED, () =>
    withTestServer({ defender: { enabled: false, threshold: 2, failed_login_delay: 0 } }, (server) =>
      countingChecks(async (checks) => {
        const leavers = await Promise.all([1, 2].map(() => FtpConnection.connect(server.host, server.port)));
        for (const ftp of leavers) {
          ftp.writeRaw(`USER ${USER}\r\nPASS wrong\r\n`);
          await ftp.read();
        }
        // Gone before their checks can finish (two scrypt runs take tens of milliseconds).
        for (const ftp of leavers) ftp.close();
        assert.equal(await waitFor(() => checks.length === 2), true, 'both checks settled');
        const logins = await Promise.all([1, 2].map(() => FtpConnection.login(server.host, server.port, USER, PASSWORD)));
        for (const ftp of logins) await ftp.quit();
      })));

  test('defender.allow: an allowed range is never banned', BOUNDED, () =>
    withTestServer({ ...defended, defender: { ...defended.defender, allow: ['127.0.0.0/8', '::1'] } }, async (server) => {
      for (let session = 0; session < 2; session++) {
        const ftp = await FtpConnection.connect(server.host, server.port);
        for (let i = 0; i < 4; i++) {
          await ftp.expect(`USER ${USER}`, 331);
          await ftp.expect('PASS wrong', 530);
        }
        await ftp.quit();
      }
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.quit();
    }));

  test('defender.failed_login_delay: the 530 comes after the delay, later commands wait, other sessions do not', BOUNDED, () =>
    withTestServer({ defender: { failed_login_delay: 1 } }, async (server) => {
      const attacker = await FtpConnection.connect(server.host, server.port);
      const bystander = await FtpConnection.connect(server.host, server.port, { localAddress: '127.0.0.2' });
      const order: string[] = [];
      const started = Date.now();
      attacker.writeRaw(`USER ${USER}\r\nPASS wrong\r\nNOOP\r\n`);
      assert.equal((await attacker.read()).code, 331);
      const failure = attacker.read().then((reply) => {
        order.push('530');
        return { reply, elapsed: Date.now() - started };
      });
      const noop = await bystander.send('NOOP');
      order.push('bystander');
      assert.equal(noop.code, 200);
      const { reply, elapsed } = await failure;
      assert.equal(reply.code, 530);
      assert.ok(elapsed >= 950, `530 after ${elapsed} ms`);
      assert.equal((await attacker.read()).code, 200, 'the pipelined NOOP is answered after the 530');
      assert.deepEqual(order, ['bystander', '530'], 'the delay holds no thread: other sessions are answered meanwhile');
      await attacker.quit();
      await bystander.quit();
    }));
});

const FERRY = resolve('bin/ferry.js');
const FD_LIMIT = 300;
const FLOOD = 400;

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** `ferry serve` as its own process under `ulimit -n FD_LIMIT`, with user alice. */
async function startLimitedFerry(dir: string) {
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'f.txt'), 'still served');
  const users = join(dir, 'users.toml');
  const add = spawnSync(process.execPath, [FERRY, 'user', 'add', USER, '--users', users, '--home', root], { input: PASSWORD + '\n', encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  const config = join(dir, 'ferry.toml');
  writeFileSync(
    config,
    [
      'host = "127.0.0.1"',
      'port = 0',
      `root = "${root}"`,
      `users_file = "${users}"`,
      '[passive]',
      'ports = "0"',
      '[limits]',
      'reserved_descriptors = 100',
      'connection_rate = 0',
      '[log]',
      'level = "error"',
      '',
    ].join('\n'),
  );
  // exec keeps the PID the server's, so /proc/<pid>/fd is its descriptor table.
  const child = spawn('bash', ['-c', `ulimit -n ${FD_LIMIT}; exec "${process.execPath}" "${FERRY}" serve --config "${config}"`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  killOnExit(child);
  try {
    const port = await waitForReady(child).port;
    return { child, port, pid: child.pid! };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

describe('limits.reserved_descriptors', () => {
  test('a flood past RLIMIT_NOFILE: the logged-in user still lists and downloads; refused sockets are freed', BOUNDED, async () => {
    const scratch = scratchDir('ferry-fd-');
    const flood: RawClient[] = [];
    let ferry: Awaited<ReturnType<typeof startLimitedFerry>> | undefined;
    try {
      ferry = await startLimitedFerry(scratch.dir);
      const { pid } = ferry;
      const user = await FtpConnection.login('127.0.0.1', ferry.port, USER, PASSWORD);
      await user.expect('TYPE I', 200);
      const baseline = openDescriptors(pid);
      for (let i = 0; i < FLOOD; i++) flood.push(rawClient('127.0.0.1', ferry.port));
      const firsts = await Promise.all(flood.map((client) => withTimeout(client.first, 10_000, 'first reply of a flood connection').catch(() => 'none')));
      const greeted = firsts.filter((text) => text.startsWith('220 ')).length;
      const refused = flood.filter((_, i) => firsts[i]!.startsWith('421 '));
      assert.ok(greeted > 0 && refused.length > 0, `greeted ${greeted}, refused ${refused.length}, others: ${firsts.filter((t) => !/^(220|421) /.test(t)).length}`);

      // While the flood holds its sockets, the logged-in user's data connections still work.
      const retr = await user.download('RETR /f.txt', 'PASV');
      assert.equal(retr.final.code, 226, retr.final.text);
      assert.equal(retr.data.toString(), 'still served');
      const list = await user.download('LIST', 'PASV');
      assert.equal(list.final.code, 226, list.final.text);
      assert.match(list.data.toString(), /f\.txt/);

      // Refused sockets were closed by the server, not left to the (never closing) peer.
      await Promise.all(refused.map((client) => withTimeout(client.ended, 5000, 'server closing a refused connection')));
      assert.ok(
        await waitFor(() => openDescriptors(pid) <= baseline + greeted + 5, 5000),
        `server holds ${openDescriptors(pid)} descriptors; baseline ${baseline} + ${greeted} sessions`,
      );
      for (const client of flood) client.socket.destroy();
      assert.ok(await waitFor(() => openDescriptors(pid) <= baseline + 2, 5000), `back to ${openDescriptors(pid)}, baseline ${baseline}`);
      await user.quit();
    } finally {
      for (const client of flood) client.socket.destroy();
      if (ferry) await stopChild(ferry.child);
      scratch.remove();
    }
  });
});
