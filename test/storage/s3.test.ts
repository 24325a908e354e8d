/**
 * The storage contract on S3 storage against a real Ceph RADOS Gateway, plus what only
 * S3 has: multipart uploads that must never be left behind, bounded memory for a big
 * upload, multipart copies, the directory-rename limit and S3 errors as FTP errors.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Backend, type S3BackendOptions } from '../../src/storage/s3.js';
import { cephGatewayForFile } from '../helpers/ceph.js';
import { putFile, sha256Of, storageContract, writeAll } from './contract.js';

const MIB = 1024 * 1024;
const { gateway, skip } = await cephGatewayForFile();
if (gateway) console.log(`# Ceph RGW started in ${gateway.startupMs} ms (${gateway.endpoint})`);
const bucket = gateway ? await gateway.createBucket() : '';
const client: S3Client | null = gateway ? gateway.client() : null;
let count = 0;

/** A backend on its own fresh key prefix of the shared bucket. */
function backend(options: Partial<S3BackendOptions> = {}): { storage: S3Backend; prefix: string } {
  const prefix = `t${count++}-${randomBytes(3).toString('hex')}`;
  return { storage: new S3Backend({ client: client!, bucket, prefix, ...options }), prefix };
}

async function uploadsUnder(prefix: string): Promise<number> {
  const listed = await client!.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
  return listed.Uploads?.length ?? 0;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await client!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  return (listed.Contents ?? []).map((object) => object.Key!.slice(prefix.length + 1)).sort();
}

/** `total` bytes in 1 MiB chunks made on the fly (nothing big is ever held by the test). */
function generated(total: number, hash: ReturnType<typeof createHash>): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0, i = 0; sent < total; sent += MIB, i++) {
        const chunk = Buffer.alloc(Math.min(MIB, total - sent), i % 251);
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
}

storageContract('s3 (Ceph RGW)', async () => backend().storage, { skip });

describe('S3 storage only', { skip }, () => {
  test('keys are prefix/root/path: MKD makes a "dir/" marker, files are plain objects', async () => {
    const { storage, prefix } = backend();
    await storage.mkdir('/photos');
    await putFile(storage, '/photos/cat 1+1%.jpg', 'meow');
    assert.deepEqual(await keysUnder(prefix), ['photos/', 'photos/cat 1+1%.jpg']);
  });

  test('a directory made by another S3 client (keys only, no marker) lists and stats as one', async () => {
    const { storage, prefix } = backend();
    await client!.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/implicit/deeper/file.txt`, Body: 'x' }));
    assert.equal((await storage.stat('/implicit')).type, 'directory');
    assert.deepEqual((await storage.list('/implicit')).map((entry) => [entry.name, entry.type]), [['deeper', 'directory']]);
    await assert.rejects(storage.rmdir('/implicit'), { code: 'FERRY_ERR_NOT_EMPTY' });
  });

  test('an aborted STOR leaves no object and no multipart upload behind', async () => {
    const { storage, prefix } = backend({ partSize: 5 * MIB });
    const upload = await storage.write('/big.bin');
    const chunk = randomBytes(MIB);
    for (let i = 0; i < 12; i++) if (!upload.stream.write(chunk)) await new Promise((resolve) => upload.stream.once('drain', resolve));
    // The upload must really be multipart by now, or this test would prove nothing.
    const deadline = Date.now() + 10_000;
    while ((await uploadsUnder(prefix)) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await uploadsUnder(prefix), 1, 'a multipart upload is in progress');
    await upload.abort();
    assert.equal(await uploadsUnder(prefix), 0, 'abort removed the multipart upload');
    assert.deepEqual(await keysUnder(prefix), []);
  });

  test('bytes that all arrived but were never committed (a truncated TLS upload) are discarded', async () => {
    const { storage, prefix } = backend({ partSize: 5 * MIB });
    const upload = await storage.write('/whole-but-unconfirmed.bin');
    await writeAll(upload, randomBytes(6 * MIB));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await keysUnder(prefix), [], 'nothing appears before commit');
    await upload.abort();
    assert.equal(await uploadsUnder(prefix), 0);
    assert.deepEqual(await keysUnder(prefix), []);
  });

  test('a 64 MiB upload with 5 MiB parts holds a bounded number of parts in memory and arrives intact', async () => {
    const { storage } = backend({ partSize: 5 * MIB });
    const hash = createHash('sha256');
    // Live memory, not garbage the collector has not reached yet: collect before each sample.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage();
    const peak = { buffers: 0, rss: 0 };
    const sample = () => {
      gc();
      const now = process.memoryUsage();
      peak.buffers = Math.max(peak.buffers, now.arrayBuffers - baseline.arrayBuffers);
      peak.rss = Math.max(peak.rss, now.rss - baseline.rss);
    };
    const sampler = setInterval(sample, 25);
    const started = Date.now();
    try {
      const upload = await storage.write('/64mib.bin');
      await pipeline(generated(64 * MIB, hash), upload.stream);
      await upload.commit();
    } finally {
      clearInterval(sampler);
    }
    const [buffersMib, rssMib] = [peak.buffers / MIB, peak.rss / MIB];
    console.log(`# 64 MiB S3 upload, 5 MiB parts, 2 in flight: peak live buffers +${buffersMib.toFixed(1)} MiB, peak RSS +${rssMib.toFixed(1)} MiB, ${Date.now() - started} ms`);
    // Measured ~25-30 MiB of buffers whether the file is 16 or 128 MiB (the part being
    // filled, its concatenation, two in flight), up to 41 MiB on a loaded machine;
    // buffering the file would be 64 MiB or more.
    assert.ok(buffersMib < 48, `live buffers grew ${buffersMib.toFixed(1)} MiB: near the whole file`);
    assert.ok(rssMib < 64, `RSS grew ${rssMib.toFixed(1)} MiB: as much as the file`);
    assert.equal((await storage.stat('/64mib.bin')).size, 64 * MIB);
    assert.equal(await sha256Of(storage, '/64mib.bin'), hash.digest('hex'));
  });

  test('objects above the single-copy limit are renamed with a multipart copy', async () => {
    const { storage, prefix } = backend({ copyLimits: { singleCopyMaxBytes: MIB, partBytes: 5 * MIB } });
    const data = randomBytes(11 * MIB);
    await putFile(storage, '/large.bin', data);
    await storage.rename('/large.bin', '/moved.bin');
    assert.equal(await sha256Of(storage, '/moved.bin'), createHash('sha256').update(data).digest('hex'));
    assert.deepEqual(await keysUnder(prefix), ['moved.bin']);
    assert.equal(await uploadsUnder(prefix), 0);
    // A multipart object's ETag says how many parts it was made of ("...-3").
    const head = await client!.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/moved.bin` }));
    assert.match(head.ETag ?? '', /-3"$/);
  });

  test('a directory of more objects than the rename limit is refused before anything moves', async () => {
    const { storage, prefix } = backend({ renameMaxObjects: 3 });
    await storage.mkdir('/many');
    for (const name of ['a', 'b', 'c']) await putFile(storage, `/many/${name}`, name);
    await assert.rejects(storage.rename('/many', '/elsewhere'), (error: { code?: string; message?: string; reply?: number }) => {
      assert.equal(error.code, 'FERRY_ERR_UNSUPPORTED');
      assert.equal(error.reply, 504);
      assert.match(error.message ?? '', /more than 3 objects/);
      return true;
    });
    assert.deepEqual(await keysUnder(prefix), ['many/', 'many/a', 'many/b', 'many/c']);
  });

  test('S3 errors become FTP errors: AccessDenied 550, a missing bucket 451 naming the S3 code', async () => {
    const stranger = gateway!.client(await gateway!.createUser());
    const denied = new S3Backend({ client: stranger, bucket, prefix: 'anything' });
    await assert.rejects(denied.list('/'), { code: 'FERRY_ERR_PERMISSION', reply: 550 });
    await assert.rejects(denied.stat('/file.txt'), { code: 'FERRY_ERR_PERMISSION', reply: 550 });
    const missing = new S3Backend({ client: client!, bucket: `${bucket}-missing`, prefix: '' });
    await assert.rejects(missing.list('/'), (error: { code?: string; reply?: number; message?: string; cause?: { name?: string } }) => {
      assert.equal(error.code, 'FERRY_ERR_STORAGE');
      assert.equal(error.reply, 451);
      assert.match(error.message ?? '', /NoSuchBucket/);
      assert.equal(error.cause?.name, 'NoSuchBucket');
      return true;
    });
  });

  test('capabilities: reads resume, writes neither append nor resume (and say so)', async () => {
    const { storage } = backend();
    assert.deepEqual(
      { resumeRead: storage.capabilities.resumeRead, resumeWrite: storage.capabilities.resumeWrite, append: storage.capabilities.append },
      { resumeRead: true, resumeWrite: false, append: false },
    );
    await assert.rejects(storage.write('/x', { append: true }), { code: 'FERRY_ERR_UNSUPPORTED' });
    await assert.rejects(storage.write('/x', { start: 3 }), { code: 'FERRY_ERR_UNSUPPORTED' });
  });
});
