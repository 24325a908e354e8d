/** Session ids tell sessions apart across processes and nodes: a per-process random prefix and a counter, in events and logs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mergeConfig } from '../../src/config/load.js';
import { ServerLog } from '../helpers/server-log.js';
import { withTestServer } from '../helpers/server.js';
import { login } from './support.js';

test('each session has its own id, "<8 hex digits of this process>-<n>", in events and log lines', async () => {
  const ids: string[] = [];
  const onOpened = (message: unknown) => ids.push((message as { session: { id: string } }).session.id);
  subscribe('ferry:session:opened', onOpened);
  const log = new ServerLog();
  try {
    await withTestServer(mergeConfig({ log: { level: 'info' } }, {}), async (server) => {
      const [a, b] = await Promise.all([login(server), login(server)]);
      await Promise.all([a.quit(), b.quit()]);
    }, { logTo: log.destination });
  } finally {
    unsubscribe('ferry:session:opened', onOpened);
  }
  assert.equal(ids.length, 2);
  assert.notEqual(ids[0], ids[1]);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-\d+$/);
  assert.equal(ids[0]!.split('-')[0], ids[1]!.split('-')[0], 'one prefix per process');
  const logged = new Set(log.entries.filter((entry) => entry.msg === 'logged in').map((entry) => entry.session));
  assert.deepEqual([...logged].sort(), [...ids].sort());
});
