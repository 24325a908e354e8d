/**
 * Local files for tree transfers, opened so that a symbolic link is never followed
 * (O_NOFOLLOW): a link planted in the target folder, or swapped in after the folder was
 * read, cannot turn a download into a write somewhere else, or an upload into a read of
 * some other file. (Windows has no O_NOFOLLOW; there the lstat-based walk is the check.)
 */
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * A Writable into a local file that opens it on the first byte (or at the end, for an
 * empty file): the client hands it over only after the server accepted the RETR, but a
 * stream is made before that, and a refused download must leave the file alone.
 * Bytes go at `startAt` onwards (resume) or into a truncated file.
 */
export class NoFollowFileSink extends Writable {
  private handle: Promise<FileHandle> | undefined;
  private position: number;

  constructor(
    private readonly path: string,
    private readonly startAt = 0,
  ) {
    super();
    this.position = startAt;
  }

  private open(): Promise<FileHandle> {
    const flags = constants.O_WRONLY | constants.O_CREAT | NO_FOLLOW | (this.startAt > 0 ? 0 : constants.O_TRUNC);
    this.handle ??= fs.open(this.path, flags, 0o666);
    return this.handle;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll(chunk).then(() => callback(), callback);
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    const handle = await this.open();
    for (let offset = 0; offset < chunk.length; ) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, this.position);
      offset += bytesWritten;
      this.position += bytesWritten;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.open()
      .then((handle) => handle.close())
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.handle) return callback(error);
    this.handle
      .then((handle) => handle.close())
      .catch(() => undefined)
      .then(() => callback(error));
  }
}

/** Opens a local file for reading; a symbolic link fails (ELOOP) instead of being followed. */
export function openNoFollow(path: string): Promise<FileHandle> {
  return fs.open(path, constants.O_RDONLY | NO_FOLLOW);
}

/** Sets a local file's modification (and access) time without following a symbolic link. */
export async function setLocalTime(path: string, time: Date): Promise<void> {
  const handle = await fs.open(path, constants.O_WRONLY | NO_FOLLOW);
  try {
    await handle.utimes(time, time);
  } finally {
    await handle.close();
  }
}
