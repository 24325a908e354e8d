/**
 * STOR into S3: lib-storage's Upload streams the bytes as a multipart upload (or one
 * PutObject when they fit in a part). Memory is bounded by the part size, not the file:
 * the part being filled, its concatenation and QUEUE_SIZE parts in flight (measured:
 * ~6 parts of live buffers whether the file is 16 or 128 MiB).
 *
 * Upload completes the object as soon as its body ends, but a data connection can end
 * without the upload being good (a TLS upload without close_notify, a failed check
 * after the bytes). So the caller writes into a gate: its end only says "all bytes
 * handed over", and the body ends on commit(). abort() fails the body instead, which
 * makes Upload abort the multipart upload (no parts are left behind) and never
 * complete it; it resolves once that is done.
 */
import { Upload as MultipartUpload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { FtpError } from '../errors.js';
import type { Upload } from './backend.js';
import { fromS3Error, s3ErrorCode } from './s3-errors.js';

/** Parts uploading at once (exported for the test that bounds an upload's memory by it). */
export const QUEUE_SIZE = 2;

export interface S3UploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  partSize: number;
  logger?: Logger;
}

class UploadAborted extends Error {
  constructor() {
    super('upload aborted');
    this.name = 'UploadAborted';
  }
}

export function startS3Upload(options: S3UploadOptions): Upload {
  const { client, bucket, key, partSize, logger } = options;
  const body = new PassThrough();
  const upload = new MultipartUpload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize, queueSize: QUEUE_SIZE, leavePartsOnError: false });
  let failure: FtpError | null = null;
  let settled = false;
  let aborting = false;
  const closed = () => failure ?? new FtpError('FERRY_ERR_STORAGE', 'The upload to S3 was closed.');
  const finished = upload.done().then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof UploadAborted) return;
      failure = fromS3Error(error);
      // When abort() failed the body, only the AbortMultipartUpload itself can fail here.
      if (aborting) logger?.error({ key, s3Code: s3ErrorCode(error) }, 'S3 multipart upload could not be aborted; its parts stay until the bucket lifecycle removes them');
      // The client is still sending: stop it now, not at the data idle timeout.
      stream.destroy(failure);
    },
  );

  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (failure || body.destroyed) return callback(closed());
      if (body.write(chunk)) return callback();
      const onDrain = () => {
        body.off('close', onClose);
        callback();
      };
      const onClose = () => {
        body.off('drain', onDrain);
        callback(closed());
      };
      body.once('drain', onDrain);
      body.once('close', onClose);
    },
    // Every byte is in the body; the upload itself ends only on commit().
    final: (callback) => callback(),
  });

  const abort = async (): Promise<void> => {
    if (settled) return;
    settled = true;
    aborting = true;
    body.destroy(new UploadAborted());
    stream.destroy();
    await finished;
  };

  return {
    stream,
    commit: async () => {
      if (settled) return;
      // Bytes the caller wrote but the gate has not passed on yet belong to the object.
      if (failure === null && !stream.writableFinished) await once(stream, 'finish').catch(() => undefined);
      if (failure === null) {
        settled = true;
        body.end();
        await finished;
      }
      if (failure !== null) {
        await abort();
        throw closed();
      }
    },
    abort,
  };
}
