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

test('a hook past its timeout is killed and logged as FERRY_ERR_HOOK', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hook-'));
  try {
    const script = join(dir, 'slow.mjs');
    // Records its start, then waits far longer than the timeout; a hook that was not killed would write "finished".
    writeFileSync(script, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'started'))}, String(process.pid));\nsetTimeout(() => writeFileSync(${JSON.stringify(join(dir, 'finished'))}, 'x'), 20000);\n`);
    const lines: LogLine[] = [];
    const dispatcher = new HookDispatcher({
      config: { queue: 10, concurrency: 1, timeout: 0.5, actions: [{ events: ['delete'], command: [process.execPath, script] }] },
      logger: recordingLogger(lines),
      accepts: () => true,
    });
    try {
      publishDelete('/a.txt');
      await waitFor(() => lines.some((line) => line.fields.code === 'FERRY_ERR_HOOK'), 10_000);
      const failure = lines.find((line) => line.fields.code === 'FERRY_ERR_HOOK')!;
      assert.match(String(failure.fields.reason), /timed out/);
      const pid = Number(readFileSync(join(dir, 'started'), 'utf8'));
      assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the hook process is gone');
      assert.equal(existsSync(join(dir, 'finished')), false);
    } finally {
      await dispatcher.close(1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full queue drops runs and logs it; the queued ones still run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hook-'));
  try {
    const script = join(dir, 'record.mjs');
    // Each run appends its path, after a short pause so the queue fills behind the first.
    writeFileSync(script, `import { appendFileSync } from 'node:fs';\nsetTimeout(() => appendFileSync(${JSON.stringify(join(dir, 'runs'))}, process.env.FERRY_PATH + '\\n'), 200);\n`);
    const lines: LogLine[] = [];
    const dispatcher = new HookDispatcher({
      config: { queue: 2, concurrency: 1, timeout: 10, actions: [{ events: ['delete'], command: [process.execPath, script] }] },
      logger: recordingLogger(lines),
      accepts: () => true,
    });
    try {
      for (let index = 1; index <= 6; index++) publishDelete(`/f${index}`);
      // One runs, two wait, three are dropped.
      assert.equal(dispatcher.dropped, 3);
      assert.ok(lines.some((line) => line.fields.code === 'FERRY_ERR_HOOK' && /queue full/.test(String(line.fields.reason))));
      await waitFor(() => existsSync(join(dir, 'runs')) && readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length === 3, 10_000);
      assert.deepEqual(readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean), ['/f1', '/f2', '/f3']);
    } finally {
      await dispatcher.close(2000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
