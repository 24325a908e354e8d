/** The pieces of `workers = N` that need no processes: passive slices, the primary's connection counts, its ban relay, its web admin data. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { AdminSnapshot, SessionView } from '../../src/observability/admin/views.js';
import { BanRelay } from '../../src/server/workers/ban-relay.js';
import { ConnectionCounts } from '../../src/server/workers/connection-counts.js';
import type { AdminQuestion, PrimaryMessage } from '../../src/server/workers/messages.js';
import { passiveSlice, workerConfig, workerCount } from '../../src/server/workers/worker-slices.js';
import { WorkersAdminData } from '../../src/server/workers/workers-admin-data.js';
import { configError } from '../helpers/config-error.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';

describe('passive slices', () => {
  test('split the range into disjoint slices covering it, the first ones a port longer when it does not divide', () => {
    const slices = [0, 1, 2].map((index) => passiveSlice({ min: 50000, max: 50009 }, index, 3));
    assert.deepEqual(slices, [
      { min: 50000, max: 50003 },
      { min: 50004, max: 50006 },
      { min: 50007, max: 50009 },
    ]);
    assert.equal(passiveSlice(null, 1, 3), null, '"any port" needs no slicing');
  });

  test('fewer ports than workers is a config error naming passive.ports', () => {
    const error = configError(() => passiveSlice({ min: 50000, max: 50001 }, 0, 3));
    assert.equal(error.key, 'passive.ports');
  });

  test('a worker has its slice and no admin listener (the primary serves it); "auto" is one per core', () => {
    const config = loadConfig({ overrides: { workers: 2, passive: { ports: '50000-50099' }, admin: { listen: '127.0.0.1:9464' } } });
    const second = workerConfig(config, 1, 2);
    assert.deepEqual(second.passive.ports, { min: 50050, max: 50099 });
    assert.equal(second.admin.listen, undefined);
    assert.ok(workerCount(loadConfig({ overrides: { workers: 'auto' } })) >= 1);
  });
});

describe('connection counts (the primary)', () => {
  const limits = (maxClients: number, maxPerIp: number) => ({ max_clients: maxClients, max_per_ip: maxPerIp, limits: loadConfig({}).limits });

  test('max_per_ip and max_clients hold over all workers; a place given back is free again', () => {
    const counts = new ConnectionCounts(limits(3, 2));
    assert.equal(counts.enter(1, '192.0.2.1'), null);
    assert.equal(counts.enter(2, '192.0.2.1'), null);
    assert.equal(counts.enter(1, '192.0.2.1'), 'FERRY_ERR_TOO_MANY_PER_ADDRESS');
    assert.equal(counts.enter(2, '192.0.2.2'), null);
    assert.equal(counts.enter(1, '192.0.2.3'), 'FERRY_ERR_TOO_MANY_CLIENTS');
    counts.leave(2, '192.0.2.1');
    assert.equal(counts.enter(1, '192.0.2.1'), null);
  });

  test('a worker that exits gives its places back; a leave it never entered changes nothing', () => {
    const counts = new ConnectionCounts(limits(2, 0));
    counts.enter(1, '192.0.2.1');
    counts.enter(1, '192.0.2.2');
    counts.leave(2, '192.0.2.1');
    assert.equal(counts.enter(2, '192.0.2.3'), 'FERRY_ERR_TOO_MANY_CLIENTS');
    counts.dropWorker(1);
    assert.equal(counts.enter(2, '192.0.2.3'), null);
  });

  test('a reload changes the limits; the connections open stay counted', () => {
    const counts = new ConnectionCounts(limits(0, 1));
    counts.enter(1, '192.0.2.1');
    counts.setLimits(limits(0, 2));
    assert.equal(counts.enter(2, '192.0.2.1'), null);
    assert.equal(counts.enter(2, '192.0.2.1'), 'FERRY_ERR_TOO_MANY_PER_ADDRESS');
  });
});

describe('ban relay (the primary)', () => {
  test('events from every worker count together; the threshold bans once, until ban time; forgiving lifts it', () => {
    let now = 1_000_000;
    const relay = new BanRelay({ threshold: 3, observationMs: 60_000, banMs: 600_000, now: () => now });
    assert.equal(relay.report('192.0.2.1'), null);
    assert.equal(relay.report('192.0.2.1'), null);
    assert.equal(relay.report('192.0.2.1'), now + 600_000);
    assert.equal(relay.report('192.0.2.1'), null, 'already banned');
    assert.deepEqual(relay.inForce(), [{ group: '192.0.2.1', until: now + 600_000 }]);
    relay.forgive('192.0.2.1');
    assert.deepEqual(relay.inForce(), []);
    now += 600_001;
    assert.deepEqual(relay.inForce(), []);
  });

  test('events older than the observation window no longer count', () => {
    let now = 1_000_000;
    const relay = new BanRelay({ threshold: 2, observationMs: 1000, banMs: 5000, now: () => now });
    relay.report('192.0.2.1');
    now += 1001;
    assert.equal(relay.report('192.0.2.1'), null);
    assert.equal(relay.report('192.0.2.1'), now + 5000);
    now += 5001;
    assert.deepEqual(relay.inForce(), [], 'expired');
  });
});

describe('web admin data (the primary)', () => {
  const session = (id: string): SessionView => ({ id, user: 'anonymous', remoteAddress: '192.0.2.9', tls: false, command: null, transfer: null, worker: null });
  const snapshot = (ids: string[], bans: Array<[string, string]>, finished: number): AdminSnapshot => ({
    sessions: ids.map(session),
    bans: bans.map(([address, until]) => ({ address, until })),
    stats: { uptimeSeconds: 99, sessions: ids.length, transfersRunning: 0, transfersFinished: finished, bytes: finished * 10, bannedAddresses: bans.length },
  });

  /** A worker that answers the admin's questions with `answer`, or never (null: stuck). */
  function fakeWorker(id: number, answer: ((question: AdminQuestion) => AdminSnapshot | boolean) | null, data: () => WorkersAdminData): Worker {
    return {
      id,
      process: { pid: 1000 + id },
      isConnected: () => true,
      send(message: PrimaryMessage) {
        if (message.ferry === 'admin' && answer) setImmediate(() => data().answered(message.id, answer(message.question)));
        return true;
      },
    } as unknown as Worker;
  }

  test('lists every worker\'s sessions with their worker, each ban once (latest end), sums the counts; a stuck worker is left out after the timeout', async () => {
    const lines: LogLine[] = [];
    const later = '2030-01-01T00:10:00.000Z';
    const workers = [
      { worker: fakeWorker(1, () => snapshot(['a-1', 'a-2'], [['192.0.2.1', '2030-01-01T00:00:00.000Z']], 3), () => data), index: 0 },
      { worker: fakeWorker(2, () => snapshot(['b-1'], [['192.0.2.1', later], ['192.0.2.2', later]], 4), () => data), index: 1 },
      { worker: fakeWorker(3, null, () => data), index: 2 },
    ];
    const data: WorkersAdminData = new WorkersAdminData({ workers: () => workers, logger: recordingLogger(lines), timeoutMs: 500 });
    const started = Date.now();
    const merged = await data.snapshot();
    assert.ok(Date.now() - started < 5000, 'the stuck worker held the answer');
    assert.deepEqual(merged.sessions.map((view) => [view.id, view.worker]), [['a-1', { index: 0, pid: 1001 }], ['a-2', { index: 0, pid: 1001 }], ['b-1', { index: 1, pid: 1002 }]]);
    assert.deepEqual(merged.bans, [{ address: '192.0.2.1', until: later }, { address: '192.0.2.2', until: later }]);
    assert.equal(merged.stats.sessions, 3);
    assert.equal(merged.stats.transfersFinished, 7);
    assert.equal(merged.stats.bytes, 70);
    assert.equal(merged.stats.bannedAddresses, 2, 'a ban every worker holds counts once');
    assert.ok(merged.stats.uptimeSeconds < 99, "the primary's uptime");
    assert.deepEqual(lines.map((line) => [line.level, line.fields.worker]), [['warn', 2]]);
  });

  test('snapshots asked at once (the dashboard polls three views) share one question per worker', async () => {
    let asked = 0;
    const workers = [{ worker: fakeWorker(1, () => (asked++, snapshot(['a-1'], [], 1)), () => data), index: 0 }];
    const data: WorkersAdminData = new WorkersAdminData({ workers: () => workers, logger: recordingLogger([]), timeoutMs: 500 });
    const [one, two, three] = await Promise.all([data.snapshot(), data.snapshot(), data.snapshot()]);
    assert.equal(asked, 1);
    assert.deepEqual([one, two].map((merged) => merged.sessions.length), [1, 1]);
    assert.equal(three, one);
    await data.snapshot();
    assert.equal(asked, 2, 'a later request asks again');
  });

  test('a kick is done by the worker holding the session; an unban by the first worker holding the ban', async () => {
    const asked: string[] = [];
    const owner = (holds: string) => (question: AdminQuestion) => {
      if (question.kind === 'snapshot') return snapshot([], [], 0);
      asked.push(`${holds}:${question.kind}`);
      return (question.kind === 'kick' ? question.id : question.address) === holds;
    };
    const workers = [
      { worker: fakeWorker(1, owner('a-1'), () => data), index: 0 },
      { worker: fakeWorker(2, owner('192.0.2.1'), () => data), index: 1 },
    ];
    const data: WorkersAdminData = new WorkersAdminData({ workers: () => workers, logger: recordingLogger([]), timeoutMs: 1000 });
    assert.equal(await data.kick('a-1', 'token'), true);
    assert.equal(await data.kick('z-9', 'token'), false);
    asked.length = 0;
    assert.equal(await data.unban('192.0.2.1', 'token'), true);
    assert.deepEqual(asked, ['a-1:unban', '192.0.2.1:unban']);
    assert.equal(await data.unban('192.0.2.7', 'token'), false);
  });
});

test("a worker's question to a primary that dies unanswered settles with its refusal", { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-primary-gone-'));
  try {
    // The worker: asks the gate, then says what it got. The parent (its "primary") never answers and disconnects.
    const script = join(dir, 'worker.mjs');
    writeFileSync(
      script,
      `import { PrimaryGate, PrimaryQuestions } from ${JSON.stringify(pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../src/server/workers/primary-link.js')).href)};
const answer = new PrimaryGate(new PrimaryQuestions()).enter('192.0.2.1');
console.log(JSON.stringify(await answer));`,
    );
    const child = fork(script, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [question] = (await once(child, 'message')) as [{ ferry: string }];
    assert.equal(question.ferry, 'enter');
    child.disconnect();
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    assert.equal(output.trim(), '"FERRY_ERR_SHUTTING_DOWN"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
