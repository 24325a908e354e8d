/**
 * The hook dispatcher's defences: a hook that outlives its timeout is killed and logged,
 * and a full queue drops runs (logged) instead of growing without bound or blocking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events, type FileOperationEvent, type SessionSummary } from '../../src/observability/events.js';
import { HookDispatcher } from '../../src/observability/hooks/dispatcher.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';
import { waitFor } from '../helpers/timing.js';

const session: SessionSummary = { id: 'test-1', remoteAddress: '127.0.0.1', user: { name: 'alice' } };

function publishDelete(path: string): void {
  events.fileOperation.publish({ session, op: 'delete', path, user: { name: 'alice', anonymous: false }, site: 'default' } satisfies FileOperationEvent);
}

interface Harness {
  dir: string;
  lines: LogLine[];
  dispatcher: HookDispatcher;
}

/**
 * A dispatcher whose one action runs `script` (written by `source(dir)` into a fresh
 * folder) on delete events; the folder and the dispatcher are gone after `body`.
 */
async function withScriptHook(
  source: (dir: string) => string,
  limits: { queue: number; timeout: number; closeMs: number },
  body: (harness: Harness) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hook-'));
  const script = join(dir, 'hook.mjs');
  writeFileSync(script, source(dir));
  const lines: LogLine[] = [];
  const dispatcher = new HookDispatcher({
    config: { queue: limits.queue, concurrency: 1, timeout: limits.timeout, actions: [{ events: ['delete'], command: [process.execPath, script] }] },
    logger: recordingLogger(lines),
    accepts: () => true,
  });
  try {
    await body({ dir, lines, dispatcher });
  } finally {
    await dispatcher.close(limits.closeMs);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a hook past its timeout is killed and logged as FERRY_ERR_HOOK', async () => {
  // Records its start, then waits far longer than the timeout; a hook that was not killed would write "finished".
  const slow = (dir: string) =>
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'started'))}, String(process.pid));\nsetTimeout(() => writeFileSync(${JSON.stringify(join(dir, 'finished'))}, 'x'), 20000);\n`;
  await withScriptHook(slow, { queue: 10, timeout: 0.5, closeMs: 1000 }, async ({ dir, lines }) => {
    publishDelete('/a.txt');
    await waitFor(() => lines.some((line) => line.fields.code === 'FERRY_ERR_HOOK'), 10_000);
    const failure = lines.find((line) => line.fields.code === 'FERRY_ERR_HOOK')!;
    assert.match(String(failure.fields.reason), /timed out/);
    const pid = Number(readFileSync(join(dir, 'started'), 'utf8'));
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the hook process is gone');
    assert.equal(existsSync(join(dir, 'finished')), false);
  });
});

test('a full queue drops runs and logs it; the queued ones still run', async () => {
  // Each run appends its path, after a short pause so the queue fills behind the first.
  const record = (dir: string) =>
    `import { appendFileSync } from 'node:fs';\nsetTimeout(() => appendFileSync(${JSON.stringify(join(dir, 'runs'))}, process.env.FERRY_PATH + '\\n'), 200);\n`;
  await withScriptHook(record, { queue: 2, timeout: 10, closeMs: 2000 }, async ({ dir, lines, dispatcher }) => {
    const runs = () => (existsSync(join(dir, 'runs')) ? readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean) : []);
    for (let index = 1; index <= 6; index++) publishDelete(`/f${index}`);
    // One runs, two wait, three are dropped.
    assert.equal(dispatcher.dropped, 3);
    assert.ok(lines.some((line) => line.fields.code === 'FERRY_ERR_HOOK' && /queue full/.test(String(line.fields.reason))));
    await waitFor(() => runs().length === 3, 10_000);
    assert.deepEqual(runs(), ['/f1', '/f2', '/f3']);
  });
});
