/**
 * Per-session resource limits: wildcard patterns that cannot stall the server, listings
 * of bounded size, clients that never read their replies, passive ports held by sessions
 * that never connect, and connections that never log in.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FtpConnection, type FtpReply } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { sleep, waitFor, withTimeout } from '../helpers/timing.js';
import type { Session } from '../../src/server/session.js';
import { openLocalHome } from '../../src/storage/local.js';
import type { StorageBackend } from '../../src/storage/backend.js';
import { overriding } from '../helpers/storage-override.js';
import { connectSocket, findFreePortRange, lines, login, parseList, passivePort, readAll } from './support.js';

describe('wildcard patterns', () => {
  const LONG_NAME = 'a'.repeat(64);
  let server: TestServer;
  before(async () => {
    server = await startServer();
    mkdirSync(join(server.root, 'g'));
    // A backtracking regex needs seconds for the pattern below on a 40-character name, and
    // grows exponentially with it: on this one it would not finish within the test's time.
    writeFileSync(join(server.root, 'g', LONG_NAME), '');
    writeFileSync(join(server.root, 'g', 'keep.txt'), '');
  });
  after(async () => {
    await server.stop();
  });

  test('a pathological STAT pattern is answered at once, and another session meanwhile', async () => {
    const [attacker, other] = await Promise.all([login(server), login(server)]);
    const started = Date.now();
    const stat = attacker.send('STAT /g/*a*a*a*a*a*a*a*a*a*b');
    const noop = other.send('NOOP');
    const [statReply, noopReply] = await Promise.all([stat, noop]);
    assert.equal(noopReply.code, 200);
    assert.equal(statReply.code, 213, statReply.lines.join(' | '));
    // Generous for a loaded machine: without the state-set walk this takes far longer.
    assert.ok(Date.now() - started < 3000, `STAT and NOOP took ${Date.now() - started} ms`);
    assert.equal((await attacker.send('STAT /g/*e*.t?t')).lines.some((line) => line.endsWith(' keep.txt')), true);
    await Promise.all([attacker.quit(), other.quit()]);
  });

  test('patterns past the caps get 501 and are never matched', async () => {
    const ftp = await login(server);
    const tooMany = await ftp.send(`STAT /g/${'*'.repeat(17)}`);
    assert.equal(tooMany.code, 501, tooMany.lines.join(' | '));
    assert.match(tooMany.text, /more than 16 wildcards/);
    const tooLong = await ftp.send(`STAT /g/${'x'.repeat(256)}*`);
    assert.equal(tooLong.code, 501, tooLong.lines.join(' | '));
    assert.match(tooLong.text, /longer than 255 characters/);
    await ftp.expect('EPSV', 229);
    assert.equal((await ftp.send(`NLST /g/${'?'.repeat(17)}`)).code, 501);
    // Within the caps, the same session lists normally.
    const { data, final } = await ftp.download(`NLST /g/${'*'.repeat(16)}`);
    assert.equal(final.code, 226);
    assert.deepEqual(lines(data).sort(), [LONG_NAME, 'keep.txt']);
    await ftp.quit();
  });
});

describe('listing size cap (limits.listing_max_entries)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ limits: { listing_max_entries: 5 } });
    mkdirSync(join(server.root, 'big'));
    for (let i = 0; i < 12; i++) writeFileSync(join(server.root, 'big', `f${String(i).padStart(2, '0')}.txt`), 'x');
  });
  after(async () => {
    await server.stop();
  });

  test('LIST, NLST, MLSD and STAT read at most the cap and say the output is truncated', async () => {
    const ftp = await login(server);
    const list = await ftp.download('LIST /big');
    assert.equal(parseList(list.data).length, 5);
    assert.match(list.final.text, /truncated/);
    const nlst = await ftp.download('NLST /big/*.txt');
    // Every name matches, so the glob sees exactly the entries the cap let through.
    assert.equal(lines(nlst.data).length, 5);
    assert.match(nlst.final.text, /truncated/);
    const mlsd = await ftp.download('MLSD /big');
    assert.equal(lines(mlsd.data).length, 5);
    assert.match(mlsd.final.text, /truncated/);
    const stat = await ftp.send('STAT /big');
    assert.equal(stat.code, 213);
    assert.equal(stat.lines.filter((line) => line.includes('.txt')).length, 5);
    assert.ok(stat.lines.some((line) => line.includes('output truncated')), stat.lines.join(' | '));
    // Under the cap nothing is said.
    writeFileSync(join(server.root, 'small.txt'), 'x');
    assert.doesNotMatch((await ftp.download('LIST /small.txt')).final.text, /truncated/);
    await ftp.quit();
  });
});

/** Logs in on `socket`, then stops reading it; resolves when logged in. */
async function loginThenStopReading(socket: Socket): Promise<void> {
  let received = '';
  let loggedIn = false;
  const onData = (chunk: Buffer) => {
    received += chunk.toString();
    if (received.includes('\n230 ')) {
      loggedIn = true;
      socket.off('data', onData);
      socket.pause(); // from now on, never read
    }
  };
  socket.on('data', onData);
  socket.write(`USER ${USER}\r\nPASS ${PASSWORD}\r\n`);
  assert.equal(await waitFor(() => loggedIn), true, received);
}

/**
 * Pipelines STAT of a big directory on a socket that is never read, every 10 ms for up to
 * 10 s or until the server closes it, at a pace the server keeps up with: while the
 * server's socket has taken no reply bytes since the last STAT and holds none back (it is
 * still working on that one: a loaded machine), the tick sends nothing, so the command
 * queue never floods (64 queued commands close a session). Once the kernel's buffers are
 * full the server holds replies back, and from then on every tick sends: a write is also
 * how a client that never reads learns that the server reset the connection. Returns the
 * most reply bytes the server held for it.
 */
async function statWithoutReading(socket: Socket, pending: () => number, written: () => number): Promise<{ maxPending: number; closed: boolean }> {
  let closed = false;
  socket.once('close', () => (closed = true));
  let maxPending = 0;
  let writtenAtLastStat = -1;
  for (let tick = 0; tick < 1000 && !closed; tick++) {
    if (maxPending > 0 || written() !== writtenAtLastStat) {
      writtenAtLastStat = written();
      socket.write('STAT /many\r\n');
    }
    maxPending = Math.max(maxPending, pending());
    if (maxPending > 64 * 1024 * 1024) break; // unbounded: no point going on
    await sleep(10);
  }
  closed ||= await waitFor(() => closed, 8000);
  return { maxPending, closed };
}

describe('a client that never reads its replies (limits.max_pending_output)', () => {
  const CAP = 64 * 1024;
  /** One STAT reply of /many: ~26 KB. */
  const REPLY_BYTES = 100 * 260;
  let server: TestServer;
  let sessions: Session[] = [];
  const onOpened = (message: unknown) => sessions.push((message as { session: Session }).session);
  // Both ends' ports: a client port alone is reused across server ports (the plain test's
  // session and the implicit one's can share it), and the newest session is the one.
  const sessionOf = (socket: Socket) =>
    [...sessions].reverse().find((candidate) => candidate.socket.remotePort === socket.localPort && candidate.socket.localPort === socket.remotePort);

  before(async () => {
    // idle bounds how long a stalled reader is kept; 4 s, not less: on a loaded machine a
    // shorter one can close the session between its login and its first STAT.
    server = await startServer({ limits: { max_pending_output: CAP }, timeouts: { idle: 4 }, tls: { mode: 'optional' } }, { tls: true });
    mkdirSync(join(server.root, 'many'));
    for (let i = 0; i < 100; i++) writeFileSync(join(server.root, 'many', `${'long-name-'.repeat(20)}${i}.dat`), '');
    subscribe('ferry:session:opened', onOpened);
  });
  after(async () => {
    unsubscribe('ferry:session:opened', onOpened);
    sessions = [];
    await server.stop();
  });

  async function othersAreServed(): Promise<void> {
    const other = await login(server);
    await other.expect('NOOP', 200);
    assert.equal((await other.download('NLST /many')).final.code, 226);
    await other.quit();
  }

  test('plain: its pending output stays bounded, it is closed, and others are served', async () => {
    const socket = await connectSocket(server.host, server.port);
    await loginThenStopReading(socket);
    const session = sessionOf(socket);
    assert.ok(session);
    // Reply bytes the server holds for this client (a plain TCP session writes on its socket).
    const { maxPending, closed } = await statWithoutReading(socket, () => session.socket.writableLength, () => session.socket.bytesWritten);
    assert.ok(maxPending <= CAP + 2 * REPLY_BYTES, `pending output reached ${maxPending} bytes (cap ${CAP})`);
    assert.ok(maxPending > CAP, `the client never left more than the cap unread (${maxPending})`);
    assert.equal(closed, true, 'the non-reading client was not closed');
    await othersAreServed();
    socket.destroy();
  });

  test('implicit TLS: the same bound holds on the TLS stream', async () => {
    const socket = tlsConnect({ host: server.host, port: server.implicitPort!, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    await withTimeout(once(socket, 'secureConnect'), 5000, 'implicit TLS handshake');
    await loginThenStopReading(socket);
    const session = sessionOf(socket);
    assert.ok(session);
    const { maxPending, closed } = await statWithoutReading(socket, () => session.pendingOutput, () => session.socket.bytesWritten);
    assert.ok(maxPending <= CAP + 2 * REPLY_BYTES, `pending output reached ${maxPending} bytes (cap ${CAP})`);
    assert.ok(maxPending > CAP, `the client never left more than the cap unread (${maxPending})`);
    assert.equal(closed, true, 'the non-reading client was not closed');
    await othersAreServed();
    socket.destroy();
  });
});

describe('passive ports of sessions that never connect (timeouts.data_connect)', () => {
  test('the port is released after the timeout: a third session gets it, the idle one gets 425', async () => {
    const range = await findFreePortRange(2);
    const server = await startServer({ passive: { ports: range.spec }, timeouts: { data_connect: 0.5 } });
    try {
      const [first, second, third] = await Promise.all([login(server), login(server), login(server)]);
      passivePort(await first.send('PASV'));
      passivePort(await second.send('EPSV'));
      assert.equal((await third.send('PASV')).code, 425, 'both ports should be taken');
      await sleep(800);
      const port = passivePort(await third.send('PASV'));
      assert.ok(port >= range.min && port <= range.max);

      const late = await first.send('LIST');
      assert.equal(late.code, 425, late.lines.join(' | '));
      assert.match(late.text, /released/);

      // A client that connects but sends no transfer command does not keep the connection either.
      const data = await connectSocket(server.host, passivePort(await second.send('EPSV')));
      const dataClosed = readAll(data);
      await withTimeout(dataClosed, 3000, 'the server closing an unused data connection');
      assert.equal((await second.send('LIST')).code, 425);
      await Promise.all([first.quit(), second.quit(), third.quit()]);
    } finally {
      await server.stop();
    }
  });
});

/** Storage whose listings take `delayMs` before they start (a slow disk or a huge folder). */
async function slowListings(home: string, delayMs: number): Promise<StorageBackend> {
  const local = await openLocalHome(home);
  return overriding(local, {
    list: async (path, options) => {
      await sleep(delayMs);
      return local.list(path, options);
    },
  });
}

describe('passive lifetime and slow transfer commands', () => {
  test('work a transfer command does before it needs the connection does not count against timeouts.data_connect', async () => {
    // Each listing takes twice the passive lifetime before it needs the connection.
    const server = await startServer({ timeouts: { data_connect: 1 } }, { openStorage: (user) => slowListings(user.home, 2000) });
    try {
      mkdirSync(join(server.root, 'dir'));
      for (let i = 0; i < 3; i++) writeFileSync(join(server.root, 'dir', `file-${i}.txt`), '');
      const ftp = await login(server);
      for (let attempt = 0; attempt < 3; attempt++) {
        const data = await connectSocket(server.host, passivePort(await ftp.send('PASV')));
        const listing = readAll(data);
        const opening = await ftp.send('NLST dir');
        assert.equal(opening.code, 150, opening.lines.join(' | '));
        assert.equal((await ftp.read(10_000)).code, 226);
        assert.equal(lines(await listing).length, 3);
      }
      // A transfer command that fails before using the connection gives the lifetime back.
      passivePort(await ftp.send('PASV'));
      assert.equal((await ftp.send('RETR missing.txt')).code, 550);
      await sleep(1500);
      assert.equal((await ftp.send('LIST')).code, 425, 'the unused listener expired after all');
      await ftp.quit();
    } finally {
      await server.stop();
    }
  });
});

/** Sends `command` every 100 ms (at most 41 times, ~4 s) while it gets `code`; returns the first other reply, or the last. */
async function resendWhile(ftp: FtpConnection, command: string, code: number): Promise<FtpReply> {
  let reply = await ftp.send(command);
  for (let i = 0; i < 40 && reply.code === code; i++) {
    await sleep(100);
    reply = await ftp.send(command);
  }
  return reply;
}

describe('login timeout (timeouts.login)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ timeouts: { login: 0.5 } });
  });
  after(async () => {
    await server.stop();
  });

  test('a connection that never logs in gets 421 and is closed, even while it sends NOOPs', async () => {
    const silent = await FtpConnection.connect(server.host, server.port);
    const busy = await FtpConnection.connect(server.host, server.port);
    const started = Date.now();
    const busyReply = await resendWhile(busy, 'NOOP', 200);
    assert.equal(busyReply.code, 421, busyReply.lines.join(' | '));
    assert.match(busyReply.text, /[Ll]ogin timeout/);
    assert.ok(Date.now() - started < 3000);
    const silentReply = await silent.read(3000);
    assert.equal(silentReply.code, 421);
    assert.equal(await silent.closedByServer(3000), true);
    assert.equal(await busy.closedByServer(3000), true);
  });

  test('REIN before logging in does not extend the time to log in', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    const started = Date.now();
    const reply = await resendWhile(ftp, 'REIN', 220);
    assert.equal(reply.code, 421, reply.lines.join(' | '));
    assert.ok(Date.now() - started < 3000);
    assert.equal(await ftp.closedByServer(3000), true);
  });

  test('a login ends its login timer: logged-in sessions hold none', async () => {
    const plain = await startServer();
    try {
      // Timers that keep the process alive (the login timer does; sockets' idle timers do not).
      const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const before = timers();
      const sessions = await Promise.all(Array.from({ length: 10 }, () => login(plain)));
      const held = timers() - before;
      assert.ok(held < 5, `10 logged-in sessions hold ${held} more timers`);
      await Promise.all(sessions.map((ftp) => ftp.quit()));
    } finally {
      await plain.stop();
    }
  });

  test('a logged-in session outlives the login timeout, and REIN starts it again', async () => {
    // Its own server with a longer timeout: the login (an scrypt hash) must fit in it on a loaded machine.
    const patient = await startServer({ timeouts: { login: 2 } });
    try {
      const ftp = await login(patient);
      await sleep(2500);
      await ftp.expect('NOOP', 200);
      await ftp.expect('REIN', 220);
      await sleep(2500);
      const reply = await ftp.read(3000);
      assert.equal(reply.code, 421);
      ftp.close();
    } finally {
      await patient.stop();
    }
  });
});
