/**
 * The storage seam. Paths are virtual POSIX paths rooted at "/" that have already been
 * normalised (no "." or ".."), so a backend only maps them onto its own namespace.
 * Failures are FtpErrors from the catalogue (not found, no space, ...).
 */
import type { Readable, Writable } from 'node:stream';
import type { ListEntry } from '../protocol/listing.js';

export type FileStat = ListEntry;

/** What a backend can do, so commands answer 502/504 up front instead of failing late. */
export interface StorageCapabilities {
  /** REST + RETR: reads starting at an offset. */
  resumeRead: boolean;
  /** REST + STOR: writes starting at an offset. */
  resumeWrite: boolean;
  /** APPE. */
  append: boolean;
}

export interface WriteOptions {
  /**
   * Write from this offset in place (REST + STOR); the file is kept up to it. An offset
   * beyond the end (or on a missing file) is FERRY_ERR_BAD_RESTART, and nothing is created.
   */
  start?: number;
  /** Append in place (APPE). An aborted in-place write restores the previous size (or removes a new file). */
  append?: boolean;
}

/**
 * An upload in progress. Bytes go to `stream`; the upload becomes visible only after
 * `commit()` (for a whole-file STOR, atomically); `abort()` discards it.
 */
export interface Upload {
  readonly stream: Writable;
  /**
   * A fresh, empty local file that may instead be written by descriptor from offset 0
   * (zero-copy receive); the writer then ends `stream` without writing to it.
   */
  readonly directFd?: number;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** An open file being read: its bytes from the requested offset, and the file's whole size. */
export interface Download {
  readonly stream: Readable;
  readonly size: number;
  /** Where the stream starts. */
  readonly start: number;
  /** The open file's descriptor when it is a local file (for zero-copy sends); the stream owns it. */
  readonly fd?: number;
}

export interface ListOptions {
  /**
   * Read at most this many directory entries (limits.listing_max_entries), so one listing
   * of a huge directory costs bounded time and memory. Entries the backend hides count too.
   */
  maxEntries?: number;
}

/** A directory's entries; `truncated` when `maxEntries` stopped the reading early. */
export type DirectoryListing = FileStat[] & { truncated?: boolean };

export interface StorageBackend {
  readonly capabilities: StorageCapabilities;
  stat(path: string): Promise<FileStat>;
  /** Entries of a directory (not "." or ".."). */
  list(path: string, options?: ListOptions): Promise<DirectoryListing>;
  /** Opens a file for reading from `start` (a start beyond the end is FERRY_ERR_BAD_RESTART). */
  read(path: string, options?: { start?: number }): Promise<Download>;
  write(path: string, options?: WriteOptions): Promise<Upload>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  delete(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}
