/**
 * The web admin with `workers = 2` under the real `ferry serve`: the primary serves it and
 * asks both workers, so its API lists every worker's sessions (each with its worker),
 * a kick reaches the worker holding the session whichever it is, and an unban lifts the
 * ban in both workers. Which session a client is comes from the "session opened" log
 * line for its port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serveWithConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { stopChild } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { logLinesIn } from '../helpers/server-log.js';
import { waitFor } from '../helpers/timing.js';
import { ADMIN_TOKEN, adminFetch, apiSessions, bearer, type SessionJson } from '../helpers/web-admin.js';

const scratch = scratchDirForFile('ferry-cli-workers-admin-');

/** The session id the server logged for `connection` ("session opened" names its client port). */
async function sessionIdOf(log: () => string, connection: FtpConnection): Promise<string> {
  const remote = `127.0.0.1:${connection.socket.localPort}`;
  let id: string | undefined;
  assert.ok(await waitFor(() => (id = logLinesIn(log(), 'session opened').find((line) => line.remote === remote)?.session as string | undefined) !== undefined, 10_000), `no session opened for ${remote}`);
  return id!;
}

async function greetingCode(port: number): Promise<number> {
  const ftp = await FtpConnection.connect('127.0.0.1', port);
  ftp.close();
  return ftp.greeting.code;
}

test('workers = 2 with the web admin: the primary lists both workers\' sessions, kicks on either worker, and an unban lifts the ban in both', { timeout: 30_000 }, async () => {
  const dir = join(scratch(), 'serve');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  const { child, port, output, log } = await serveWithConfig(dir, [
    'host = "127.0.0.1"',
    'port = 0',
    'workers = 2',
    'shutdown_grace = 1', // a worker left behind by a failed test ends soon
    '[anonymous]',
    'enabled = true',
    'root = "pub"',
    '[passive]',
    'ports = "0"',
    '[defender]',
    'threshold = 2',
    'failed_login_delay = 0',
    '[admin]',
    'listen = "127.0.0.1:0"',
    `token = "${ADMIN_TOKEN}"`,
    '[log]',
    'format = "json"',
    'level = "info"',
  ]);
  const clients = new Map<string, FtpConnection>();
  try {
    const base = /web admin: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output())?.[1];
    assert.ok(base, `no web admin line: ${output()}`);
    const pids = /workers: 2 processes \(pids (\d+), (\d+)\)/.exec(output())!.slice(1).map(Number);

    // The primary hands connections to the workers in turn: a few give both at least one.
    let sessionsById = new Map<string, SessionJson>();
    const workersHolding = () => new Set([...clients.keys()].map((id) => sessionsById.get(id)?.worker?.index));
    for (let i = 0; i < 8 && (clients.size < 3 || workersHolding().size < 2); i++) {
      const ftp = await FtpConnection.login('127.0.0.1', port, 'anonymous', `client${i}@example.com`);
      clients.set(await sessionIdOf(log, ftp), ftp);
      sessionsById = new Map((await apiSessions(base)).map((session) => [session.id, session]));
    }
    assert.deepEqual(new Set(sessionsById.keys()), new Set(clients.keys()), 'the API lists exactly the open sessions, of both workers');
    assert.deepEqual(workersHolding(), new Set([0, 1]));
    for (const session of sessionsById.values()) {
      assert.equal(session.user, 'anonymous');
      assert.equal(session.worker!.pid, pids[session.worker!.index], 'a session names its worker and that worker\'s pid');
    }
    const stats = (await (await adminFetch(base, '/api/stats', { headers: bearer })).json()) as { sessions: number };
    assert.equal(stats.sessions, clients.size, 'stats sum the workers');
    const page = await (await adminFetch(base, '/', { headers: bearer })).text();
    assert.match(page, /<th>Worker<\/th>/);

    // One kick on each worker: that client gets 421 and its connection ends; the others stay.
    const kicked = [0, 1].map((index) => [...sessionsById.values()].find((session) => session.worker!.index === index)!.id);
    for (const id of kicked) {
      const response = await adminFetch(base, `/api/sessions/${encodeURIComponent(id)}/kick`, { method: 'POST', headers: bearer });
      assert.equal(response.status, 200, await response.text());
      const ftp = clients.get(id)!;
      assert.equal((await ftp.read()).code, 421);
      assert.ok(await ftp.closedByServer(5000), `session ${id} not closed`);
      clients.delete(id);
    }
    for (const ftp of clients.values()) await ftp.expect('NOOP', 200);
    assert.deepEqual(new Set((await apiSessions(base)).map((session) => session.id)), new Set(clients.keys()));
    const gone = await adminFetch(base, `/api/sessions/${encodeURIComponent(kicked[0]!)}/kick`, { method: 'POST', headers: bearer });
    assert.equal(gone.status, 404);

    // Two failed logins ban the address in both workers; one unban lifts it in both.
    const failing = await FtpConnection.connect('127.0.0.1', port);
    for (let i = 0; i < 2; i++) await failing.send('USER nobody').then(() => failing.send('PASS wrong'));
    failing.close();
    const bans = async () => ((await (await adminFetch(base, '/api/bans', { headers: bearer })).json()) as { bans: Array<{ address: string }> }).bans;
    assert.ok(await waitFor(async () => (await bans()).length === 1, 10_000), 'the ban is not listed');
    assert.equal((await bans())[0]!.address, '127.0.0.1', 'listed once, though both workers hold it');
    assert.equal(await greetingCode(port), 421);
    const unban = await adminFetch(base, '/api/bans/127.0.0.1/unban', { method: 'POST', headers: bearer });
    assert.equal(unban.status, 200, await unban.text());
    // Listed from both workers' defenders: empty only once both lifted it.
    assert.ok(await waitFor(async () => (await bans()).length === 0, 5000), 'a worker still holds the ban');
    for (let i = 0; i < 4; i++) assert.equal(await greetingCode(port), 220, 'a worker still refuses');
  } finally {
    for (const ftp of clients.values()) ftp.close();
    await stopChild(child);
  }
});
