/** What a reload reports as changed, and what it leaves at the running values until a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.js';
import { configChanges, runnableConfig } from '../../src/config/reload-diff.js';

const config = (tree: Record<string, unknown>) => validateConfig({ root: '/srv/ftp', ...tree }, 'test');

test('changed keys are dotted paths; sites by name; restart-only keys are listed apart', () => {
  const running = config({ port: 21, banner: 'a', passive: { ports: '50000-50009' }, sites: { b: { hosts: ['b.example'], banner: 'b' } } });
  const next = config({ port: 2121, banner: 'a', passive: { ports: '50010-50019' }, timeouts: { idle: 60 }, sites: { c: { hosts: ['c.example'] } } });
  const { changed, needsRestart } = configChanges(running, next);
  assert.deepEqual([...changed].sort(), ['passive.ports', 'port', 'sites.b', 'sites.c', 'timeouts.idle']);
  assert.deepEqual(needsRestart, ['port']);
  assert.deepEqual(configChanges(running, running), { changed: [], needsRestart: [] });
});

test('the runnable config keeps the running value of each restart-only key, so the next reload reports it again', () => {
  const running = config({ port: 21, admin: { listen: '127.0.0.1:9464' }, banner: 'a' });
  const next = config({ port: 2121, banner: 'b' });
  const runnable = runnableConfig(running, next);
  assert.equal(runnable.port, 21);
  assert.deepEqual(runnable.admin.listen, running.admin.listen);
  assert.equal(runnable.banner, 'b');
  assert.deepEqual(configChanges(runnable, next).needsRestart.sort(), ['admin.listen', 'port']);
});
