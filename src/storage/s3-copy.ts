/**
 * Server-side copies (RNFR/RNTO is copy, then delete). CopyObject takes objects up to
 * 5 GiB; bigger ones are copied as a multipart upload of UploadPartCopy ranges, aborted
 * on any failure so no half-copied upload is left.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { forEachLimited } from '../util/limited.js';
import { s3Call } from './s3-errors.js';
import { copySource } from './s3-keys.js';

const GIB = 1024 * 1024 * 1024;
/** S3's CopyObject limit. */
const SINGLE_COPY_MAX_BYTES = 5 * GIB;
const COPY_PART_BYTES = 512 * 1024 * 1024;
const MAX_PARTS = 10_000;
const PARTS_AT_ONCE = 4;

export interface CopyLimits {
  /** Objects above this many bytes are copied in parts. */
  singleCopyMaxBytes: number;
  /** Bytes per UploadPartCopy (at least 5 MiB; raised so a copy needs at most 10,000 parts). */
  partBytes: number;
}

export const DEFAULT_COPY_LIMITS: CopyLimits = { singleCopyMaxBytes: SINGLE_COPY_MAX_BYTES, partBytes: COPY_PART_BYTES };

export async function copyObject(client: S3Client, bucket: string, from: string, to: string, size: number, limits: CopyLimits = DEFAULT_COPY_LIMITS): Promise<void> {
  const source = copySource(bucket, from);
  if (size <= limits.singleCopyMaxBytes) {
    await s3Call(() => client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source })));
    return;
  }
  const partBytes = Math.max(limits.partBytes, Math.ceil(size / MAX_PARTS));
  const { UploadId } = await s3Call(() => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to })));
  const ranges = Array.from({ length: Math.ceil(size / partBytes) }, (_, index) => ({ first: index * partBytes, last: Math.min(size, (index + 1) * partBytes) - 1 }));
  const parts: CompletedPart[] = [];
  try {
    await forEachLimited(ranges, PARTS_AT_ONCE, async ({ first, last }, index) => {
      const { CopyPartResult } = await s3Call(() =>
        client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: to, UploadId, PartNumber: index + 1, CopySource: source, CopySourceRange: `bytes=${first}-${last}` })),
      );
      parts[index] = { PartNumber: index + 1, ETag: CopyPartResult?.ETag };
    });
    await s3Call(() => client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } })));
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId })).catch(() => undefined);
    throw error;
  }
}
