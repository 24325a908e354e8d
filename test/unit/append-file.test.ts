/**
 * The transfer log's file writer: O_APPEND and mode 0640, reopen after a rename, a disk
 * that does not take the lines (a FIFO nobody reads) costs dropped lines, never the
 * event loop, and a disk that fails (/dev/full) is logged once per interval and never throws.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { constants, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { openAppendFile } from '../../src/observability/append-file.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';

const scratch = scratchDirForFile('ferry-append-file-');


describe('append-only log file', () => {
  test('created with mode 0640, appended to (never truncated), one line per append', async () => {
    const path = join(scratch(), 'created.log');
    const file = await openAppendFile(path, { logger: recordingLogger([]), label: 'test log' });
    file.append('one');
    file.append('two');
    await file.flushed();
    await file.close();
    assert.equal(statSync(path).mode & 0o777, 0o640 & ~process.umask());
    const again = await openAppendFile(path, { logger: recordingLogger([]), label: 'test log' });
    again.append('three');
    await again.close();
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n');
  });

  test('an existing file keeps its lines and its mode', async () => {
    const path = join(scratch(), 'existing.log');
    writeFileSync(path, 'old\n', { mode: 0o600 });
    const file = await openAppendFile(path, { logger: recordingLogger([]), label: 'test log' });
    file.append('new');
    await file.close();
    assert.equal(readFileSync(path, 'utf8'), 'old\nnew\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('after a rename (logrotate), reopen() sends the next lines to a new file at the path', async () => {
    const path = join(scratch(), 'rotated.log');
    const logged: LogLine[] = [];
    const file = await openAppendFile(path, { logger: recordingLogger(logged), label: 'test log' });
    file.append('before');
    await file.flushed();
    renameSync(path, `${path}.1`);
    file.append('still to the renamed file');
    await file.flushed();
    assert.equal(existsSync(path), false);
    await file.reopen();
    file.append('after');
    await file.close();
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'before\nstill to the renamed file\n');
    assert.equal(readFileSync(path, 'utf8'), 'after\n');
    assert.ok(logged.some((line) => line.level === 'info' && line.message === 'test log reopened'));
  });

  test('a reopen that cannot open the path keeps writing to the old file and says so', async () => {
    const dir = join(scratch(), 'gone');
    execFileSync('mkdir', [dir]);
    const path = join(dir, 'x.log');
    const logged: LogLine[] = [];
    const file = await openAppendFile(path, { logger: recordingLogger(logged), label: 'test log' });
    renameSync(dir, `${dir}.moved`);
    await file.reopen();
    file.append('kept');
    await file.close();
    assert.equal(readFileSync(join(`${dir}.moved`, 'x.log'), 'utf8'), 'kept\n');
    assert.ok(logged.some((line) => line.level === 'error' && /could not be reopened/.test(line.message)), JSON.stringify(logged));
  });

  test('a disk that does not take the lines: the event loop runs on, lines past the bound are dropped and counted', async () => {
    const fifo = join(scratch(), 'stalled.fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader that reads nothing yet: the writer's open does not wait, its writes fill the pipe and then block.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const logged: LogLine[] = [];
    const file = await openAppendFile(fifo, { logger: recordingLogger(logged), label: 'test log', maxPendingBytes: 128 * 1024 });
    const line = (index: number) => String(index).padStart(1023, '.');
    for (let index = 0; index < 200; index++) file.append(line(index));
    assert.equal(file.dropped, 72, 'the 129th KiB and beyond are dropped');
    // 128 KiB cannot fit in a 64 KiB pipe: the write blocks in the kernel while this test goes on.
    await new Promise((resolve) => setImmediate(resolve));
    file.append('also dropped: the bound counts the batch being written');
    assert.equal(file.dropped, 73);
    const warnings = logged.filter((entry) => entry.level === 'warn');
    assert.equal(warnings.length, 1, 'one warning for a burst of drops');
    assert.match(String(warnings[0]!.fields.reason), /queue full/);

    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Listening before the close: the reader may see its end while close() is still settling.
    const ended = once(reader, 'end');
    await file.flushed();
    await file.close();
    await ended;
    reader.destroy();
    const expected = Array.from({ length: 128 }, (_, index) => line(index) + '\n').join('');
    assert.equal(Buffer.concat(chunks).toString(), expected, 'the lines that fitted arrive whole and in order');
  });

  test('a failing disk (/dev/full): each batch is tried, dropped and counted; one warning per interval; nothing throws', async (t) => {
    if (!existsSync('/dev/full')) return t.skip('no /dev/full');
    const logged: LogLine[] = [];
    const file = await openAppendFile('/dev/full', { logger: recordingLogger(logged), label: 'test log' });
    for (let batch = 0; batch < 3; batch++) {
      file.append(`line ${batch}`);
      await file.flushed();
    }
    assert.equal(file.dropped, 3);
    const warnings = logged.filter((entry) => entry.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(logged));
    assert.match(String(warnings[0]!.fields.reason), /ENOSPC/);
    assert.equal(logged.filter((entry) => entry.level === 'debug').length, 2, 'the repeats go to debug');
    await file.close();
  });

  test('close() does not wait for a disk that never takes the last lines', async () => {
    const fifo = join(scratch(), 'never.fifo');
    execFileSync('mkfifo', [fifo]);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const logged: LogLine[] = [];
    const file = await openAppendFile(fifo, { logger: recordingLogger(logged), label: 'test log' });
    file.append('x'.repeat(200 * 1024));
    await file.close(50);
    assert.ok(logged.some((entry) => entry.level === 'warn' && /did not take the last lines/.test(entry.message)), JSON.stringify(logged));
    // Once the write in flight ends, the file is closed after all: the reader sees its end.
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    let received = 0;
    reader.on('data', (chunk: Buffer) => (received += chunk.length));
    await once(reader, 'end');
    reader.destroy();
    assert.equal(received, 200 * 1024 + 1);
  });
});
