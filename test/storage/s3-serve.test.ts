/**
 * End to end on S3: the real `ferry serve` with [storage] type = "s3" against a real
 * Ceph gateway (keys from the standard AWS environment variables), and curl as the FTP
 * client: STOR (multipart), RETR byte-exact, LIST, REST+RETR, APPE refused with 504.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { cephGatewayForFile } from '../helpers/ceph.js';
import { CURL, runCurl } from '../helpers/curl.js';
import { serveOnS3 } from '../helpers/ferry-s3.js';
import { describeRun } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';

const MIB = 1024 * 1024;
const { gateway, skip: noGateway } = await cephGatewayForFile();
const skip = noGateway || (CURL ? false : 'curl is not installed');
const scratch = scratchDirForFile('ferry-s3-serve-');

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('ferry serve on S3 storage (Ceph RGW), with curl', { skip }, () => {
  let bucket = '';
  let url = '';
  let user = '';
  let stop: () => Promise<void> = async () => undefined;

  before(async () => {
    bucket = await gateway!.createBucket();
    // The README's example, with this gateway's address and bucket.
    const ferry = await serveOnS3(gateway!, { dir: scratch(), bucket, prefix: 'ferry', partSize: 5 * MIB });
    stop = ferry.stop;
    assert.match(ferry.output(), new RegExp(`\\(root s3://${bucket}/ferry\\)`));
    user = ferry.user;
    url = ferry.url;
  });

  after(() => stop());

  test('STOR, RETR, LIST, REST+RETR work and APPE is refused with 504', async () => {
    const data = randomBytes(7 * MIB + 123);
    const local = join(scratch(), 'upload.bin');
    writeFileSync(local, data);

    const stored = await runCurl(['--ftp-create-dirs', '-T', local, `${url}/docs/report%202026.bin`], { user });
    assert.equal(stored.code, 0, describeRun('curl STOR', stored));
    assert.ok(stored.sent.includes('MKD docs'), 'curl made the directory');
    assert.ok(stored.received.some((line) => line.startsWith('226')), stored.received.join('\n'));
    // In the bucket, under storage.prefix, as one object (7 MiB: two multipart parts).
    const head = await gateway!.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'ferry/docs/report 2026.bin' }));
    assert.equal(head.ContentLength, data.length);

    const downloaded = join(scratch(), 'download.bin');
    const retrieved = await runCurl(['-o', downloaded, `${url}/docs/report%202026.bin`], { user });
    assert.equal(retrieved.code, 0, describeRun('curl RETR', retrieved));
    assert.equal(sha256(readFileSync(downloaded)), sha256(data));

    const listed = await runCurl([`${url}/docs/`], { user });
    assert.equal(listed.code, 0, describeRun('curl LIST', listed));
    const line = listed.stdout.toString().split('\n').find((entry) => entry.endsWith('report 2026.bin'));
    assert.ok(line, listed.stdout.toString());
    assert.match(line, new RegExp(`\\b${data.length}\\b`));

    const offset = 5 * MIB + 7;
    const resumed = await runCurl(['-r', `${offset}-`, `${url}/docs/report%202026.bin`], { user });
    assert.equal(resumed.code, 0, describeRun('curl REST+RETR', resumed));
    assert.ok(resumed.sent.includes(`REST ${offset}`), resumed.sent.join('\n'));
    assert.equal(sha256(resumed.stdout), sha256(data.subarray(offset)));

    const appended = await runCurl(['--append', '-T', local, `${url}/docs/report%202026.bin`], { user });
    assert.notEqual(appended.code, 0, 'curl reports the refusal');
    assert.ok(appended.sent.some((sent) => sent.startsWith('APPE ')), appended.sent.join('\n'));
    assert.ok(appended.received.some((reply) => reply.startsWith('504 ')), appended.received.join('\n'));
    const after = await gateway!.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'ferry/docs/report 2026.bin' }));
    assert.equal(after.ContentLength, data.length, 'the refused APPE changed nothing');
  });
});
