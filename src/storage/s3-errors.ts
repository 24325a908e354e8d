/**
 * S3 failures in the error catalogue's terms. The SDK has already retried throttling and
 * 5xx answers by the time an error arrives here, so those become FERRY_ERR_STORAGE (451,
 * "try again later"); the S3 error code stays in the message and the cause, so the log
 * line says what the object store said.
 */
import { FtpError, mapErrors, type ErrorCode } from '../errors.js';

interface S3ErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const BY_CODE: Record<string, ErrorCode> = {
  // A 404 too, but the site's configuration is wrong, not the client's path.
  NoSuchBucket: 'FERRY_ERR_STORAGE',
  NoSuchKey: 'FERRY_ERR_NOT_FOUND',
  NotFound: 'FERRY_ERR_NOT_FOUND',
  AccessDenied: 'FERRY_ERR_PERMISSION',
  Forbidden: 'FERRY_ERR_PERMISSION',
  InvalidRange: 'FERRY_ERR_BAD_RESTART',
  KeyTooLongError: 'FERRY_ERR_BAD_NAME',
  EntityTooLarge: 'FERRY_ERR_NO_SPACE',
  QuotaExceeded: 'FERRY_ERR_NO_SPACE',
};

/** HEAD answers have no body, so only their status says what happened. */
const BY_STATUS: Record<number, ErrorCode> = { 403: 'FERRY_ERR_PERMISSION', 404: 'FERRY_ERR_NOT_FOUND', 416: 'FERRY_ERR_BAD_RESTART' };

/** The S3 error code (or the network error's code) of a failed request. */
export function s3ErrorCode(error: unknown): string {
  const shape = (error ?? {}) as S3ErrorShape;
  return shape.Code ?? (shape.name && shape.name !== 'Error' ? shape.name : undefined) ?? shape.code ?? 'UnknownError';
}

function httpStatus(error: unknown): number | undefined {
  return ((error ?? {}) as S3ErrorShape).$metadata?.httpStatusCode;
}

/** Whether a failed request means "no such key" (HeadObject answers 404 without a code). */
export function isNotFound(error: unknown): boolean {
  return fromS3Error(error).code === 'FERRY_ERR_NOT_FOUND';
}

export function fromS3Error(error: unknown): FtpError {
  if (error instanceof FtpError) return error;
  const code = s3ErrorCode(error);
  const status = httpStatus(error);
  const mapped = BY_CODE[code] ?? (status === undefined ? undefined : BY_STATUS[status]);
  if (mapped && mapped !== 'FERRY_ERR_STORAGE') return new FtpError(mapped, undefined, { cause: error });
  return new FtpError('FERRY_ERR_STORAGE', `Storage error (S3 ${code}${status ? `, HTTP ${status}` : ''}); try again later.`, { cause: error });
}

/** Runs one S3 request, turning its failure into a catalogue error. */
export function s3Call<T>(request: () => Promise<T>): Promise<T> {
  return mapErrors(request, fromS3Error);
}
