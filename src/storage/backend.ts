/**
 * The storage seam. Paths are virtual POSIX paths rooted at "/" that have already been
 * normalised (no "." or ".."), so a backend only maps them onto its own namespace.
 * Failures are FtpErrors from the catalogue (not found, no space, ...).
 */
import type { Socket } from 'node:net';
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
  /** MFMT, SITE UTIME: `setModifiedTime`. */
  setModifiedTime: boolean;
  /** SITE CHMOD: `setMode`. */
  setMode: boolean;
  /** SITE SYMLINK: `symlink`. */
  symlink: boolean;
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
 * How a backend may move a file's bytes over a data connection itself (zero-copy), when
 * it can do better than its stream. The caller has already ruled out what only it knows
 * about (TYPE A conversion); the backend rules out what it cannot do (a TLS socket, no
 * native support here, no thread free).
 */
export interface SocketTransferOptions {
  /**
   * The data connection's idle timeout. The caller arms no socket timer while the backend
   * has the socket (destroying it would close a descriptor the backend may be using), so
   * the backend enforces this one itself.
   */
  idleTimeoutMs: number;
  /** ABOR: the transfer stops and the promise rejects. */
  signal: AbortSignal;
  /** limits.zero_copy_threads: native transfers at once in this process; past it (or at 0) the answer is null. */
  zeroCopyThreads: number;
  /**
   * Optional, for STAT and live views: a backend whose transfer moves bytes the socket's
   * counters never see (sendfile, splice) calls this once, when it has taken the socket,
   * with a reader of the bytes moved so far, which must stay valid (giving the final
   * count) after the transfer ends. The caller reads it only when asked, so it costs
   * nothing per chunk. A backend that never calls it needs nothing more: the caller then
   * counts the socket's bytes.
   */
  trackProgress?(bytesMoved: () => number): void;
}

/**
 * An upload in progress. Bytes go to `stream`; the upload becomes visible only after
 * `commit()` (for a whole-file STOR, atomically); `abort()` discards it.
 */
export interface Upload {
  readonly stream: Writable;
  /**
   * Optional: reads what the client sends on `socket`, until its end of file, straight
   * into the upload, instead of the caller piping the socket into `stream`. Called at most
   * once, before anything is written to `stream`, on a fresh paused data connection.
   * Resolves with the bytes received, and the upload is then ready for `commit()` (the
   * backend has ended `stream` itself); or with null when it cannot take this socket,
   * having read nothing, and the caller uses `stream`. Rejects when the transfer fails
   * part way (an idle timeout, ABOR, a reset); the caller then calls `abort()`. Its
   * running count goes to `options.trackProgress` (else STAT shows the socket's, 0).
   */
  receiveFrom?(socket: Socket, options: SocketTransferOptions): Promise<number | null>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * An open file being read: its bytes from the requested offset, and the file's whole size.
 * Whoever opened it calls `close()` when done, whichever way the bytes went: that
 * releases the file.
 */
export interface Download {
  /** May be made on first use (a download that goes through `sendTo` never needs one); destroying it releases the file too. */
  readonly stream: Readable;
  /** Releases the file (destroys `stream` if it was made); safe to call twice. */
  close(): void;
  readonly size: number;
  /** Where the stream starts. */
  readonly start: number;
  /**
   * Optional: sends the bytes from `start` to the end straight to `socket`, instead of the
   * caller piping `stream` into it. Called at most once, before `stream` is read, on a
   * fresh paused data connection; `stream` must not be destroyed until it settles.
   * Resolves with the bytes sent (the socket is left open for the caller to end); or with
   * null when it cannot take this socket, having sent nothing, and the caller uses
   * `stream`. Rejects when the transfer fails part way (an idle timeout, ABOR, a reset).
   * Its running count goes to `options.trackProgress`, as for `Upload.receiveFrom`.
   */
  sendTo?(socket: Socket, options: SocketTransferOptions): Promise<number | null>;
  /**
   * Optional: reads up to `length` bytes of the file at `position` into `buffer` (0 at its
   * end). A download the caller copies (TLS, or no zero-copy) then reuses two buffers
   * instead of a stream's fresh one per chunk; `stream` is not made.
   */
  readAt?(buffer: Buffer, position: number, length: number): Promise<number>;
}

/** A download that is nothing but its stream (closing it destroys the stream). */
export function streamDownload(stream: Readable, size: number, start: number): Download {
  return { stream, size, start, close: () => stream.destroy() };
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
  /**
   * Optional (capabilities.setModifiedTime): sets the modification time of a file or
   * directory (links followed, inside the root only), and its access time when given
   * (else the access time stays).
   */
  setModifiedTime?(path: string, modified: Date, accessed?: Date): Promise<void>;
  /**
   * Optional (capabilities.setMode): sets the permission bits of a file or directory
   * (links followed, inside the root only). Only 0o777 is honoured: setuid, setgid and
   * sticky bits are never set for a client.
   */
  setMode?(path: string, mode: number): Promise<void>;
  /**
   * Optional (capabilities.symlink): creates a symbolic link at `path` whose text is
   * `target`, a relative path read from the link's directory. A target that is absolute
   * or leads out of the root is refused (FERRY_ERR_PERMISSION).
   */
  symlink?(target: string, path: string): Promise<void>;
}

/** The optional operations, each with its capability flag. */
export type OptionalOperation = 'setModifiedTime' | 'setMode' | 'symlink';

/** Whether a backend both declares an optional operation and has it. */
export function supports(storage: StorageBackend, operation: OptionalOperation): boolean {
  return storage.capabilities[operation] && typeof storage[operation] === 'function';
}
