/** The pieces of `workers = N` that need no processes: passive slices, the primary's connection counts, its ban relay. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { BanRelay } from '../../src/server/workers/ban-relay.js';
import { ConnectionCounts } from '../../src/server/workers/connection-counts.js';
import { checkWorkersConfig, passiveSlice, workerConfig, workerCount } from '../../src/server/workers/worker-slices.js';
import { configError } from '../helpers/config-error.js';

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

  test('a worker has its slice and no admin listener (the primary serves it, the web admin too); "auto" is one per core', () => {
    const config = loadConfig({ overrides: { workers: 2, passive: { ports: '50000-50099' }, admin: { listen: '127.0.0.1:9464' } } });
    const second = workerConfig(config, 1, 2);
    assert.deepEqual(second.passive.ports, { min: 50050, max: 50099 });
    assert.equal(second.admin.listen, undefined);
    assert.ok(workerCount(loadConfig({ overrides: { workers: 'auto' } })) >= 1);
    checkWorkersConfig(loadConfig({ overrides: { workers: 2, admin: { listen: '127.0.0.1:9464', token: '0123456789abcdef0123' } } }));
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
