/**
 * Local file-system storage, jailed to a root directory.
 *
 * Virtual paths are already normalised (no ".."), so joining them to the root cannot
 * climb out lexically; the remaining escapes are symlinks inside the root pointing
 * outside it, and directories swapped for such links while an operation runs. Jail
 * (jail.ts) closes both: a file is located and type-checked on an O_PATH descriptor
 * before it is opened for reading or writing, and what is created, replaced, renamed or
 * removed is reached by name through an open, verified directory. Links that stay
 * inside the root keep working.
 *
 * Names starting with the upload temp prefix are reserved (553) in every operation.
 */
import { constants, createReadStream, createWriteStream, fchmod, fchown, ftruncate, promises as fs, read, write, writev, type Dirent, type ReadStream, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpError, fromSystemError, mapSystemErrors } from '../errors.js';
import type { DirectoryListing, Download, FileStat, ListOptions, StorageBackend, StorageCapabilities, Upload, WriteOptions } from './backend.js';
import { closeFd, Jail, openFd, type DirectoryHandle } from './jail.js';
import { assertNotReserved, isReservedName, uploadTempName } from './upload-temp.js';
import { receiveFileZeroCopy, sendFileZeroCopy } from './zero-copy.js';

export { UPLOAD_TEMP_PREFIX } from './upload-temp.js';

/**
 * Read size for downloads and buffer size for uploads: 1 MiB chunks mean fewer syscalls,
 * event-loop turns and thread-pool hops per MiB (measured: ~2x the RETR rate of 256 KiB).
 */
const CHUNK_BYTES = 1024 * 1024;
const MIN_CHUNK_BYTES = 16 * 1024;

const fchmodFd = promisify(fchmod);
const fchownFd = promisify(fchown);
const ftruncateFd = promisify(ftruncate);
const readFd = promisify(read);

/** Longest file name most file systems accept, in bytes. */
const MAX_NAME_BYTES = 255;

/**
 * Entries of one listing stat'ed at once. libuv's thread pool is a shared FIFO queue: a
 * listing that queued 100,000 stats at once would make every other session's file
 * operation wait behind them. (A link also holds a descriptor while it is checked.)
 */
const STATS_AT_ONCE = 32;

/** Access modes only: files are located and type-checked before they are opened (jail.ts openFile). */
const READ_FLAGS = constants.O_RDONLY;
const WRITE_FLAGS = constants.O_WRONLY;

/** Streams for in-place writes leave the descriptor open: abort still needs it to restore the size. */
const KEEP_DESCRIPTOR_OPEN = { write, writev, close: (_fd: number, callback: (error: null) => void) => callback(null) };

function toFileStat(name: string, stats: Stats): FileStat {
  return {
    name,
    type: stats.isDirectory() ? 'directory' : 'file',
    size: stats.isDirectory() ? 4096 : stats.size,
    mtime: stats.mtime,
    mode: stats.mode & 0o7777,
  };
}

async function closeQuietly(stream: Writable): Promise<void> {
  if (stream.closed) return;
  stream.destroy();
  await once(stream, 'close').catch(() => undefined);
}

/**
 * A replaced file keeps its mode (and, when we may, its owner): overwriting must not widen
 * access. Never its setuid/setgid bits: the uploader's bytes would run as that owner.
 */
async function keepPermissions(fd: number, previous: Stats): Promise<void> {
  await fchmodFd(fd, previous.mode & 0o1777);
  if (process.getuid?.() === 0) await fchownFd(fd, previous.uid, previous.gid);
}

/** Up to `max` entries of a directory, read a few at a time so a huge one is never read whole. */
async function readEntries(path: string, max: number): Promise<{ entries: Dirent[]; truncated: boolean }> {
  const entries: Dirent[] = [];
  // Leaving the loop early closes the directory handle.
  for await (const entry of await fs.opendir(path)) {
    if (entries.length >= max) return { entries, truncated: true };
    entries.push(entry);
  }
  return { entries, truncated: false };
}

/** Everything the local backend can do (also what a site of local storage announces before login). */
export const LOCAL_CAPABILITIES: Readonly<StorageCapabilities> = Object.freeze({
  resumeRead: true,
  resumeWrite: true,
  append: true,
  setModifiedTime: true,
  setMode: true,
  symlink: true,
});

export class LocalStorage implements StorageBackend {
  readonly capabilities: StorageCapabilities = LOCAL_CAPABILITIES;
  private readonly jail: Jail;

  constructor(root: string) {
    this.jail = new Jail(root);
  }

  /** Parent directory and literal last component of something changed by name. */
  private entry(virtual: string): { parent: string; name: string } {
    assertNotReserved(virtual);
    if (virtual === '/') throw new FtpError('FERRY_ERR_PERMISSION', 'The root directory cannot be changed.');
    return { parent: posix.dirname(virtual), name: posix.basename(virtual) };
  }

  async stat(virtual: string): Promise<FileStat> {
    assertNotReserved(virtual);
    const stats = await this.jail.statInside(this.jail.hostPath(virtual));
    // FIFOs, sockets and devices are not files a client can use (a FIFO would block a
    // read forever): they are treated as absent, as listings hide them.
    if (!stats.isFile() && !stats.isDirectory()) throw new FtpError('FERRY_ERR_NOT_FOUND');
    return toFileStat(posix.basename(virtual) || '/', stats);
  }

  async list(virtual: string, options: ListOptions = {}): Promise<DirectoryListing> {
    assertNotReserved(virtual);
    return this.jail.inDirectory(virtual, async (dir) => {
      const read = await mapSystemErrors(() => readEntries(dir.path, options.maxEntries ?? Infinity));
      const entries = read.entries.filter((entry) => !isReservedName(entry.name));
      const describe = async (name: string, isLink: boolean): Promise<FileStat | null> => {
        const path = posix.join(dir.path, name);
        try {
          // A link is shown as what it points to, and only when that is inside the jail
          // (an entry that became a link since readdir is treated as one).
          let stats = isLink ? null : await fs.lstat(path);
          if (stats === null || stats.isSymbolicLink()) stats = await this.jail.statInside(path);
          return stats.isFile() || stats.isDirectory() ? toFileStat(name, stats) : null;
        } catch {
          return null; // vanished, dangling or escaping link, unreadable: not listed
        }
      };
      const described: (FileStat | null)[] = [];
      for (let i = 0; i < entries.length; i += STATS_AT_ONCE) {
        const batch = entries.slice(i, i + STATS_AT_ONCE);
        described.push(...(await Promise.all(batch.map((entry) => describe(entry.name, entry.isSymbolicLink())))));
      }
      const listing: DirectoryListing = described.filter((s): s is FileStat => s !== null);
      if (read.truncated) listing.truncated = true;
      return listing;
    });
  }

  async read(virtual: string, options: { start?: number } = {}): Promise<Download> {
    assertNotReserved(virtual);
    const start = options.start ?? 0;
    const opened = await this.jail.openFile(this.jail.hostPath(virtual), READ_FLAGS);
    if (opened === null) throw new FtpError('FERRY_ERR_NOT_FOUND');
    const { fd, size } = opened;
    if (start > size) {
      await closeFd(fd).catch(() => undefined);
      throw new FtpError('FERRY_ERR_BAD_RESTART', `Restart position ${start} is beyond the end of the file (${size} bytes).`);
    }
    // Buffers sized to the file: a 16 KiB file must not allocate a 1 MiB read buffer.
    const highWaterMark = Math.max(MIN_CHUNK_BYTES, Math.min(CHUNK_BYTES, size - start));
    // The stream is made only when the bytes go through it: a sendfile(2) download (most
    // binary RETRs) never builds one, and its descriptor is closed by the addon's thread.
    let stream: ReadStream | undefined;
    let closed = false;
    return {
      get stream() {
        return (stream ??= createReadStream('', { fd, start, highWaterMark })); // owns fd: destroying it closes the file
      },
      size,
      start,
      sendTo: (socket, transfer) => sendFileZeroCopy(socket, fd, start, size - start, transfer, () => (closed = true)),
      readAt: async (buffer, position, length) => (await readFd(fd, buffer, 0, length, position)).bytesRead,
      close: () => {
        if (closed) return;
        closed = true;
        if (stream) stream.destroy();
        else closeFd(fd).catch(() => undefined);
      },
    };
  }

  async write(virtual: string, options: WriteOptions = {}): Promise<Upload> {
    const { parent, name } = this.entry(virtual);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new FtpError('FERRY_ERR_BAD_NAME', 'File name too long.');
    // The upload keeps the verified directory open until it is committed or aborted.
    const dir = await this.jail.openDirectory(parent);
    try {
      if (options.append || (options.start ?? 0) > 0) return await this.writeInPlace(dir, name, options);
      return await this.writeAtomically(dir, name);
    } catch (error) {
      await dir.close();
      throw fromSystemError(error);
    }
  }

  /**
   * APPE and REST+STOR: the existing bytes (up to the offset) are kept. A restart offset
   * beyond the end (or on a missing file) is refused before anything is created; a
   * failed or aborted write puts the file back to its previous size (or removes it when
   * this upload created it).
   */
  private async writeInPlace(dir: DirectoryHandle, name: string, options: WriteOptions): Promise<Upload> {
    const path = posix.join(dir.path, name);
    const flags = WRITE_FLAGS | (options.append ? constants.O_APPEND : 0);
    const start = options.append ? undefined : options.start;
    const existing = await this.jail.openFile(path, flags);
    const created = existing === null;
    if (existing === null && start !== undefined) {
      throw new FtpError('FERRY_ERR_BAD_RESTART', `Restart position ${start} is beyond the end of the file (it does not exist).`);
    }
    const openFdNumber = existing?.fd ?? (await mapSystemErrors(() => openFd(path, flags | constants.O_CREAT | constants.O_EXCL, 0o644)));
    const previousSize = existing?.size ?? 0;
    if (start !== undefined && start > previousSize) {
      await closeFd(openFdNumber).catch(() => undefined);
      throw new FtpError('FERRY_ERR_BAD_RESTART', `Restart position ${start} is beyond the end of the file (${previousSize} bytes).`);
    }
    const stream = createWriteStream('', { fd: openFdNumber, start, highWaterMark: CHUNK_BYTES, fs: KEEP_DESCRIPTOR_OPEN });
    let settled = false;
    const release = async () => {
      await closeFd(openFdNumber).catch(() => undefined);
      await dir.close();
    };
    const rollBack = async () => {
      settled = true;
      try {
        await closeQuietly(stream); // waits for writes in flight
        if (created) await fs.unlink(path);
        else await ftruncateFd(openFdNumber, previousSize);
      } finally {
        await release();
      }
    };
    return {
      stream,
      commit: async () => {
        if (settled) return;
        try {
          if (!stream.closed) await once(stream, 'close');
          // REST + STOR: the file ends where the new bytes end. Truncating only now means
          // a transfer that never starts leaves the file as it was.
          if (start !== undefined) await ftruncateFd(openFdNumber, start + stream.bytesWritten);
        } catch (error) {
          await rollBack().catch(() => undefined);
          throw fromSystemError(error);
        }
        settled = true;
        await release();
      },
      abort: async () => {
        if (!settled) await mapSystemErrors(rollBack);
      },
    };
  }

  /**
   * What a STOR over `path` replaces, as open(2) would see it: the entry itself, or for a
   * link what it points to inside the root (a link to a directory is refused like the
   * directory, a link to a file passes on that file's mode). Null when nothing is there.
   */
  private async replacedEntry(path: string): Promise<Stats | null> {
    const entry = await fs.lstat(path).catch(() => null);
    if (!entry?.isSymbolicLink()) return entry;
    return this.jail.statInside(path).catch(() => null);
  }

  /** STOR: write a temporary file beside the target and rename it into place on commit. */
  private async writeAtomically(dir: DirectoryHandle, name: string): Promise<Upload> {
    const target = posix.join(dir.path, name);
    const previous = await this.replacedEntry(target);
    if (previous?.isDirectory()) throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
    const temp = posix.join(dir.path, uploadTempName());
    const fd = await mapSystemErrors(() => openFd(temp, WRITE_FLAGS | constants.O_CREAT | constants.O_EXCL, 0o644));
    if (previous?.isFile()) {
      await keepPermissions(fd, previous).catch(async (error: unknown) => {
        await closeFd(fd).catch(() => undefined);
        await fs.unlink(temp).catch(() => undefined);
        throw error;
      });
    }
    // A deep buffer lets the socket keep reading while the previous chunks are written
    // (the stream then writes them together with writev).
    const stream = createWriteStream('', { fd, highWaterMark: CHUNK_BYTES });
    let settled = false;
    const discard = async () => {
      settled = true;
      try {
        await closeQuietly(stream);
        await fs.rm(temp, { force: true });
      } finally {
        await dir.close();
      }
    };
    return {
      stream,
      // Only here: splice(2) writes from offset 0, which only a fresh, empty file allows.
      receiveFrom: async (socket, transfer) => {
        const received = await receiveFileZeroCopy(socket, fd, transfer);
        // Ending the unwritten stream closes fd, which commit waits for.
        if (received !== null) await new Promise<void>((resolve) => stream.end(resolve));
        return received;
      },
      commit: async () => {
        if (settled) return;
        try {
          if (!stream.closed) await once(stream, 'close');
          await fs.rename(temp, target);
        } catch (error) {
          await discard().catch(() => undefined);
          throw fromSystemError(error);
        }
        settled = true;
        await dir.close();
      },
      abort: async () => {
        if (!settled) await mapSystemErrors(discard);
      },
    };
  }

  async mkdir(virtual: string): Promise<void> {
    const { parent, name } = this.entry(virtual);
    await this.jail.inDirectory(parent, (dir) => mapSystemErrors(() => fs.mkdir(posix.join(dir.path, name), 0o755)));
  }

  async rmdir(virtual: string): Promise<void> {
    const { parent, name } = this.entry(virtual);
    await this.jail.inDirectory(parent, (dir) =>
      mapSystemErrors(async () => {
        const path = posix.join(dir.path, name);
        if (!(await fs.lstat(path)).isDirectory()) throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY');
        await fs.rmdir(path);
      }),
    );
  }

  async delete(virtual: string): Promise<void> {
    const { parent, name } = this.entry(virtual);
    await this.jail.inDirectory(parent, (dir) =>
      mapSystemErrors(async () => {
        const path = posix.join(dir.path, name);
        if ((await fs.lstat(path)).isDirectory()) throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
        await fs.unlink(path);
      }),
    );
  }

  /**
   * A file or directory, located and verified like `stat` (links followed, inside the
   * root only), changed through its O_PATH descriptor (jail.ts onInodeInside).
   */
  private onFileOrDirectory(virtual: string, work: (path: string, stats: Stats) => Promise<void>): Promise<void> {
    assertNotReserved(virtual);
    return this.jail.onInodeInside(this.jail.hostPath(virtual), async (path, stats) => {
      if (!stats.isFile() && !stats.isDirectory()) throw new FtpError('FERRY_ERR_NOT_FOUND');
      await work(path, stats);
    });
  }

  setModifiedTime(virtual: string, modified: Date, accessed?: Date): Promise<void> {
    return this.onFileOrDirectory(virtual, (path, stats) => fs.utimes(path, accessed ?? stats.atime, modified));
  }

  setMode(virtual: string, mode: number): Promise<void> {
    return this.onFileOrDirectory(virtual, (path) => fs.chmod(path, mode & 0o777));
  }

  /**
   * The link is created by name in its verified directory; its text is judged from that
   * directory's real location, so it cannot point out of the root (and following any
   * link still goes through the jail).
   */
  async symlink(target: string, virtual: string): Promise<void> {
    const { parent, name } = this.entry(virtual);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new FtpError('FERRY_ERR_BAD_NAME', 'File name too long.');
    if (target === '' || target.includes('\0') || posix.isAbsolute(target)) throw new FtpError('FERRY_ERR_PERMISSION', 'A link target must be a relative path inside the root.');
    if (target.split('/').some(isReservedName)) throw new FtpError('FERRY_ERR_BAD_NAME');
    await this.jail.inDirectory(parent, async (dir) => {
      if (!(await this.jail.linkTargetInside(target, dir.real))) throw new FtpError('FERRY_ERR_PERMISSION', 'A link pointing outside the root cannot be created.');
      await mapSystemErrors(() => fs.symlink(target, posix.join(dir.path, name)));
    });
  }

  /**
   * Renames between two verified directories. A link keeps its text, so where it points
   * depends on where it lands: a link that would point outside the root from its new
   * directory is refused.
   */
  async rename(from: string, to: string): Promise<void> {
    const source = this.entry(from);
    const destination = this.entry(to);
    await this.jail.inDirectory(source.parent, (sourceDir) =>
      this.jail.inDirectory(destination.parent, (destinationDir) =>
        mapSystemErrors(async () => {
          const sourcePath = posix.join(sourceDir.path, source.name);
          if ((await fs.lstat(sourcePath)).isSymbolicLink()) {
            const target = await fs.readlink(sourcePath);
            if (!(await this.jail.linkTargetInside(target, destinationDir.real))) {
              throw new FtpError('FERRY_ERR_PERMISSION', 'A link pointing outside the root cannot be moved.');
            }
          }
          await fs.rename(sourcePath, posix.join(destinationDir.path, destination.name));
        }),
      ),
    );
  }
}

/** Local storage of a user's home folder, created if missing (a new user's first login). */
export async function openLocalHome(home: string): Promise<LocalStorage> {
  await fs.mkdir(home, { recursive: true });
  return new LocalStorage(home);
}
