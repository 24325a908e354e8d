/**
 * What one home holds, kept up to date by the uploads, deletions and renames that go
 * through Ferry, and what running uploads have reserved: two sessions of one user
 * uploading at once cannot both use the last free megabyte. The count starts from a
 * walk of the home (scanUsage) the first time a quota needs it.
 */
import type { Usage } from './usage-scan.js';

/** What a quota allows; 0 = no limit. */
export interface Quota {
  bytes: number;
  files: number;
}

export class UsageLedger {
  private used: Usage = { bytes: 0, files: 0 };
  private reservedBytes = 0;
  private reservedFiles = 0;
  private scanned: Promise<void> | null = null;

  constructor(private readonly scan: () => Promise<Usage>) {}

  /** Settles once the home has been counted (the first call starts the walk). */
  ready(): Promise<void> {
    // Every change through Ferry waits for this first, so none is counted twice or lost.
    this.scanned ??= this.scan().then((usage) => {
      this.used = usage;
    });
    return this.scanned;
  }

  /** Whether `bytes` more (and a file more, if `newFile`) would still fit, counting what others have reserved. */
  fits(quota: Quota, bytes: number, newFile: boolean): boolean {
    if (quota.bytes > 0 && this.used.bytes + this.reservedBytes + bytes > quota.bytes) return false;
    if (newFile && quota.files > 0 && this.used.files + this.reservedFiles + 1 > quota.files) return false;
    return true;
  }

  /** Holds room for a running upload (negative to give some back). */
  reserve(bytes: number, files: number): void {
    this.reservedBytes += bytes;
    this.reservedFiles += files;
  }

  /** What the home gained or lost for good (a committed upload, a deletion). */
  record(bytes: number, files: number): void {
    this.used = { bytes: Math.max(0, this.used.bytes + bytes), files: Math.max(0, this.used.files + files) };
  }
}
