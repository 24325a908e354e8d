/** S3 failures as FTP errors (the SDK's error shapes; the real gateway is in test/storage/s3.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromS3Error } from '../../src/storage/s3-errors.js';
import { joinKeyPrefix, copySource } from '../../src/storage/s3-keys.js';

const s3Error = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

test('S3 error codes map to FTP replies; throttling and 5xx (after the SDK retries) are 451 naming the S3 code', () => {
  const cases: Array<[Error, string, number]> = [
    [s3Error('NoSuchKey', 404), 'FERRY_ERR_NOT_FOUND', 550],
    [s3Error('NotFound', 404), 'FERRY_ERR_NOT_FOUND', 550],
    [s3Error('AccessDenied', 403), 'FERRY_ERR_PERMISSION', 550],
    [s3Error('Unknown', 403), 'FERRY_ERR_PERMISSION', 550],
    [s3Error('SlowDown', 503), 'FERRY_ERR_STORAGE', 451],
    [s3Error('InternalError', 500), 'FERRY_ERR_STORAGE', 451],
    [s3Error('NoSuchBucket', 404), 'FERRY_ERR_STORAGE', 451],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'FERRY_ERR_STORAGE', 451],
  ];
  for (const [error, code, reply] of cases) {
    const mapped = fromS3Error(error);
    assert.deepEqual([mapped.code, mapped.reply], [code, reply], error.name);
    assert.equal(mapped.cause, error, 'the S3 error is kept as the cause for the log');
  }
  assert.match(fromS3Error(s3Error('SlowDown', 503)).message, /S3 SlowDown, HTTP 503/);
  assert.match(fromS3Error(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).message, /ECONNREFUSED/);
});

test('key prefixes join without empty, "." or doubled segments; copy sources are URL-encoded', () => {
  assert.equal(joinKeyPrefix('', '/'), '');
  assert.equal(joinKeyPrefix('ferry/', '/users//alice/', './x'), 'ferry/users/alice/x');
  assert.equal(copySource('bucket', 'dir/100% a+b ü.txt'), 'bucket/dir/100%25%20a%2Bb%20%C3%BC.txt');
});
