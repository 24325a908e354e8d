/**
 * Names of upload temporary files. An upload is written beside its target as
 * `.ferry-upload-<pid>-<random>.tmp` and renamed into place on commit. The prefix is
 * reserved: no client path may contain a component starting with it (so users can
 * neither create such names nor hide files behind them), and the pid lets the sweeper
 * tell a crashed server's leftovers from a live upload.
 */
import { randomBytes } from 'node:crypto';
import { FtpError } from '../errors.js';

export const UPLOAD_TEMP_PREFIX = '.ferry-upload-';

const TEMP_NAME = /^\.ferry-upload-(\d+)-[0-9a-f]+\.tmp$/;

export function uploadTempName(): string {
  return `${UPLOAD_TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}.tmp`;
}

export function isReservedName(name: string): boolean {
  return name.startsWith(UPLOAD_TEMP_PREFIX);
}

/** The pid in a temp file name written by this code, or null for any other name. */
export function uploadTempPid(name: string): number | null {
  const match = TEMP_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

/** Refuses (553) a virtual path any component of which uses the reserved prefix. */
export function assertNotReserved(virtual: string): void {
  if (virtual.split('/').some(isReservedName)) {
    throw new FtpError('FERRY_ERR_BAD_NAME', 'File names starting with ".ferry-upload-" are reserved.');
  }
}
