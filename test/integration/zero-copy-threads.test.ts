/**
 * The zero-copy addon's own threads: one is reused across transfers (a thread per small
 * download cost more than the copy it saved), idle ones exit so an idle server holds none,
 * and a worker_thread ending with a stalled and a parked one neither hangs nor crashes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TransferEvent } from '../../src/observability/events.js';
import { setZeroCopyThreadIdleTimeout, zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { startServer } from '../helpers/server.js';
import { waitFor, withTimeout } from '../helpers/timing.js';
import { login } from './support.js';

const SMALL = Buffer.alloc(16 * 1024, 'x');
// Long enough that a loaded machine's pause between two downloads does not end the thread.
const IDLE_MS = 1000;
const ADDON = resolve(fileURLToPath(import.meta.url), '../../../../build/Release/ferry_sendfile.node');

function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/**
 * In a worker_thread: one transfer stalls on a peer that never reads (its thread waits in
 * poll) and one finishes (its thread parks, idle), then it says so and waits to be ended.
 */
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const fs = require('node:fs');
const addon = require(workerData.addon);
const server = net.createServer({ pauseOnConnect: true });
server.listen(0, '127.0.0.1', async () => {
  const accept = () => new Promise((done) => server.once('connection', done));
  const fd = fs.openSync(workerData.file, 'r');
  const staller = net.connect(server.address().port, '127.0.0.1');
  staller.pause();
  const stalled = await accept();
  addon.sendfile(stalled._handle.fd, fd, 0, workerData.size, 60000);
  // The stalled transfer holds its thread: this one starts a second, which then parks.
  net.connect(server.address().port, '127.0.0.1'); // reads what it gets
  const finished = await accept();
  await addon.sendfile(finished._handle.fd, fd, 0, 1000, 60000).done;
  parentPort.postMessage('stalled');
});
`;

describe('zero-copy threads', () => {
  test('one thread serves consecutive transfers and exits once idle', { timeout: 30_000 }, async (t) => {
    if (!zeroCopyAvailable()) return t.skip('the zero-copy addon is not built here');
    setZeroCopyThreadIdleTimeout(IDLE_MS);
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);
    subscribe('ferry:transfer', onTransfer);
    const server = await startServer();
    try {
      writeFileSync(join(server.root, 'small.bin'), SMALL);
      const ftp = await login(server);
      await ftp.expect('TYPE I', 200);
      await ftp.download('LIST'); // libuv's pool and every other thread the server starts are up
      const baseline = threadCount();
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 5; i++) assert.deepEqual((await ftp.download('RETR small.bin')).data, SMALL);
        assert.equal(threadCount(), baseline + 1, 'one parked thread served the five downloads');
        assert.ok(await waitFor(() => threadCount() === baseline, 5000), 'the idle thread exited');
      }
      assert.equal(seen.length, 11);
      assert.ok(seen.slice(1).every((event) => event.zeroCopy), 'every download went zero-copy');
      await ftp.quit();
    } finally {
      unsubscribe('ferry:transfer', onTransfer);
      await server.stop();
    }
  });

  test('a worker_thread ends cleanly with a stalled and an idle zero-copy thread', { timeout: 30_000 }, async (t) => {
    if (!zeroCopyAvailable()) return t.skip('the zero-copy addon is not built here');
    const scratch = scratchDir('ferry-zero-copy-threads-');
    let worker: Worker | undefined;
    try {
      const file = join(scratch.dir, 'big.bin');
      const size = 256 * 1024 * 1024;
      writeFileSync(file, '');
      truncateSync(file, size); // sparse; far more than the socket buffers take
      const baseline = threadCount();
      const started = new Worker(WORKER_SCRIPT, { eval: true, workerData: { addon: ADDON, file, size } });
      worker = started;
      const exited = new Promise<number>((done) => started.once('exit', done));
      const message = await withTimeout(new Promise((done, fail) => started.once('message', done).once('error', fail)), 10_000, 'worker ready');
      assert.equal(message, 'stalled');
      assert.ok(threadCount() >= baseline + 3, 'the worker and its two zero-copy threads run');
      await withTimeout(started.terminate(), 5000, 'worker termination');
      await withTimeout(exited, 5000, 'worker exit');
      assert.ok(await waitFor(() => threadCount() === baseline, 5000), 'no thread outlives the worker');
    } finally {
      // A worker that never got ready would keep its stalled transfer (and this process) alive.
      await worker?.terminate();
      scratch.remove();
    }
  });
});
