/**
 * The quota's count while an upload commits: its bytes stay reserved until they are
 * counted as used, so an upload that starts meanwhile cannot take the same free space.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpError } from '../../src/errors.js';
import { QuotaStorage } from '../../src/server/limits/quota-storage.js';
import { UsageLedger } from '../../src/server/limits/usage-ledger.js';
import { LocalStorage } from '../../src/storage/local.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { overriding } from '../helpers/storage-override.js';

const base = scratchDirForFile('ferry-quota-');

function end(stream: Writable, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(bytes, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

test("an upload that starts while another commits cannot take the space the committing one's bytes hold", async () => {
  const root = join(base(), 'home');
  mkdirSync(root, { recursive: true });
  const local = new LocalStorage(root);
  // The commit's look at what landed waits until released: the moment the race lives in.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  const inner = overriding(local, {
    stat: async (path: string) => {
      if (holding && path === '/first.bin') await held;
      return local.stat(path);
    },
  });
  const ledger = new UsageLedger(async () => ({ bytes: 0, files: 0 }));
  const quota = new QuotaStorage(inner, ledger, { bytes: 100, files: 0 });

  const first = await quota.write('/first.bin');
  await end(first.stream, Buffer.alloc(60, 1));
  holding = true;
  const committing = first.commit();
  // The commit is now looking at the file; a second upload of 60 bytes must not fit in 100.
  await new Promise((resolve) => setImmediate(resolve));
  const second = await quota.write('/second.bin');
  await assert.rejects(end(second.stream, Buffer.alloc(60, 2)), (error: unknown) => error instanceof FtpError && error.code === 'FERRY_ERR_QUOTA');
  await second.abort();
  release();
  await committing;
  assert.equal((await local.stat('/first.bin')).size, 60);
  await assert.rejects(local.stat('/second.bin'), 'nothing of the refused upload stored');
});
