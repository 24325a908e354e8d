/**
 * The jail against a race: a thread swaps a directory inside the root for a symlink to
 * an outside directory (and back) thousands of times while clients RETR, STOR, APPE,
 * MKD, RNFR/RNTO and DELE inside it. Nothing outside may be read, created or changed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { login } from './support.js';

const SECRET = 'SECRET: OUTSIDE THE ROOT';
const INSIDE = 'inside the root';
const MAX_SWAPS = 200_000;
const SWAP_MS = 6000;
const CLIENTS = 4;
const MAX_ROUNDS_PER_CLIENT = 3000;

/** Runs in a worker thread so the swaps race the server's thread-pool file operations. */
const SWAPPER = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dir, parked, outside, maxSwaps, deadline, stop } = workerData;
const flag = new Int32Array(stop);
let swaps = 0;
while (swaps < maxSwaps && Date.now() < deadline && Atomics.load(flag, 0) === 0) {
  fs.renameSync(dir, parked);
  fs.symlinkSync(outside, dir);
  fs.unlinkSync(dir);
  fs.renameSync(parked, dir);
  swaps++;
}
parentPort.postMessage(swaps);
`;

let server: TestServer;
let outside: string;

before(async () => {
  server = await startServer();
  outside = join(dirname(server.root), 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'f.txt'), SECRET);
  mkdirSync(join(server.root, 'd'));
  writeFileSync(join(server.root, 'd', 'f.txt'), INSIDE);
});

after(async () => {
  await server.stop();
});

/** Every entry below a directory (not following links), relative to it. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const name = prefix + entry.name;
    return entry.isDirectory() ? [name + '/', ...tree(join(dir, entry.name), name + '/')] : [name];
  });
}

interface Tally {
  readsInside: number;
  readsOutside: number;
  refused: number;
  stored: number;
}

/** A transfer that is refused (550 before 150) is expected while the link is in place. */
async function attempt<T>(tally: Tally, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch {
    tally.refused++;
    return null;
  }
}

async function client(ftp: FtpConnection, id: number, running: () => boolean, tally: Tally): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS_PER_CLIENT && running(); round++) {
    const read = await attempt(tally, () => ftp.download('RETR d/f.txt'));
    if (read) {
      const text = read.data.toString('utf8');
      if (text.includes('SECRET')) tally.readsOutside++;
      else if (read.final.code === 226) tally.readsInside++;
    }
    const name = `d/up-${id}-${round}.txt`;
    const stored = await attempt(tally, () => ftp.upload(`STOR ${name}`, Buffer.from('uploaded')));
    if (stored?.final.code === 226) tally.stored++;
    await attempt(tally, () => ftp.upload('APPE d/f.txt', Buffer.from('+')));
    await ftp.send(`MKD d/m-${id}-${round}`);
    if ((await ftp.send(`RNFR ${name}`)).code === 350) await ftp.send(`RNTO d/r-${id}-${round}.txt`);
    await ftp.send(`DELE d/r-${id}-${round}.txt`);
  }
}

test('swapping a directory for an outward symlink never reaches outside the root', { timeout: 30_000 }, async () => {
  const outsideBefore = { tree: tree(outside), mtime: statSync(join(outside, 'f.txt')).mtimeMs };
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(SWAPPER, {
    eval: true,
    workerData: { dir: join(server.root, 'd'), parked: join(server.root, 'd-parked'), outside, maxSwaps: MAX_SWAPS, deadline: Date.now() + SWAP_MS, stop },
  });
  let swapping = true;
  const swaps = new Promise<number>((resolve, reject) => {
    worker.once('message', (count: number) => resolve(count));
    worker.once('error', reject);
  }).finally(() => (swapping = false));
  const tally: Tally = { readsInside: 0, readsOutside: 0, refused: 0, stored: 0 };
  let connections: FtpConnection[] = [];
  try {
    // Inside the try: a failed login still stops the swapper at once.
    connections = await Promise.all(Array.from({ length: CLIENTS }, () => login(server)));
    await Promise.all(connections.map(async (ftp) => ftp.expect('TYPE I', 200)));
    await Promise.all(connections.map((ftp, id) => client(ftp, id, () => swapping, tally)));
  } finally {
    new Int32Array(stop)[0] = 1;
    await swaps.catch(() => undefined);
    await worker.terminate();
    await Promise.all(connections.map((ftp) => ftp.quit().catch(() => ftp.close())));
  }
  const swapCount = await swaps;
  console.log(`jail race: ${swapCount} swaps, ${JSON.stringify(tally)}`);
  assert.ok(swapCount >= 1000, `only ${swapCount} swaps`);
  assert.equal(tally.readsOutside, 0, 'RETR returned an outside file');
  assert.deepEqual(tree(outside), outsideBefore.tree, 'something was created outside the root');
  assert.equal(readFileSync(join(outside, 'f.txt'), 'utf8'), SECRET, 'the outside file was changed');
  assert.equal(statSync(join(outside, 'f.txt')).mtimeMs, outsideBefore.mtime);
  // The race did not just refuse everything: work inside the root went on.
  assert.ok(tally.readsInside > 0 && tally.stored > 0, JSON.stringify(tally));
  assert.ok(readFileSync(join(server.root, 'd', 'f.txt'), 'utf8').startsWith(INSIDE));
});
