/**
 * Race-free confinement to a root directory.
 *
 * Checking a path and then using it is a race: something on disk can swap a directory
 * for a symlink in between. So every check here is made on an *open descriptor* (its
 * real location, read back from /proc/self/fd/N), and the operation that follows goes
 * through that same descriptor: a directory is opened and verified once, then entries
 * are created, opened, renamed or removed by name inside it via the magic link
 * `/proc/self/fd/N/name`, which the kernel resolves to the opened directory whatever the
 * path meanwhile points to. (This is what openat(2) with a verified dirfd gives, without
 * native code.)
 *
 * Without /proc (not Linux), the fallback keeps the earlier check-then-use: the real path
 * is resolved and checked first, then used. That is not race-free against a concurrent
 * swap on disk; it still stops links that point out of the root.
 */
import { close, constants, existsSync, fstat, open, promises as fs, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { FtpError, fromSystemError } from '../errors.js';

export const openFd = promisify(open);
export const fstatFd = promisify(fstat);
export const closeFd = promisify(close);

/** Whether descriptors can be located through /proc (Linux). */
export const CAN_VERIFY_DESCRIPTORS = process.platform === 'linux' && existsSync('/proc/self/fd');

/** Linux O_PATH: a descriptor that names an inode without opening it (no device side effects). */
const O_PATH = 0o10000000;

/** The path through which the kernel reaches an open descriptor. */
export function descriptorPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** An open, verified directory; entries are reached as `join(handle.path, name)`. */
export interface DirectoryHandle {
  /** Use only until `close()`: afterwards the number may belong to another file. */
  readonly path: string;
  /** Real host path of the directory when it was verified. */
  readonly real: string;
  close(): Promise<void>;
}

export class Jail {
  private realRoot: Promise<string> | undefined;

  constructor(private readonly root: string) {}

  /** The root's real path, resolved once (a root that is itself a link is followed). */
  rootReal(): Promise<string> {
    this.realRoot ??= fs.realpath(this.root).catch((error: unknown) => {
      this.realRoot = undefined;
      throw fromSystemError(error);
    });
    return this.realRoot;
  }

  /** Host path of a virtual path, lexically (nothing is resolved). */
  hostPath(virtual: string): string {
    return join(this.root, virtual);
  }

  async isInside(real: string): Promise<boolean> {
    const root = await this.rootReal();
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  }

  /** Throws "not found" (as if nothing were there) unless `real` is the root or below it. */
  async assertInside(real: string): Promise<string> {
    if (!(await this.isInside(real))) throw new FtpError('FERRY_ERR_NOT_FOUND');
    return real;
  }

  /**
   * Where an open descriptor really is, checked against the root; on any failure the
   * descriptor is closed. Without /proc this is a no-op (the path was checked first).
   */
  async verifyDescriptor(fd: number): Promise<void> {
    if (!CAN_VERIFY_DESCRIPTORS) return;
    try {
      const real = await fs.readlink(descriptorPath(fd));
      // A file removed since it was opened reads "path (deleted)"; where it was still counts.
      await this.assertInside(real.endsWith(' (deleted)') ? real.slice(0, -' (deleted)'.length) : real);
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw fromSystemError(error);
    }
  }

  /** Real path of an existing entry (links followed), checked: the fallback's first step. */
  async resolveExisting(hostPath: string): Promise<string> {
    const real = await fs.realpath(hostPath).catch((error: unknown) => {
      throw fromSystemError(error);
    });
    return this.assertInside(real);
  }

  /** Opens a directory (links followed) and verifies where it is. */
  async openDirectory(virtual: string): Promise<DirectoryHandle> {
    if (!CAN_VERIFY_DESCRIPTORS) {
      const real = await this.resolveExisting(this.hostPath(virtual));
      return { path: real, real, close: async () => undefined };
    }
    const hostPath = this.hostPath(virtual);
    let fd: number;
    try {
      fd = await openFd(hostPath, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (error) {
      // Not a directory -- unless it is outside, which is "not found" like everything there.
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') await this.statInside(hostPath);
      throw fromSystemError(error);
    }
    let real: string;
    try {
      real = await this.assertInside(await fs.readlink(descriptorPath(fd)));
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw fromSystemError(error);
    }
    let closed = false;
    return {
      path: descriptorPath(fd),
      real,
      close: async () => {
        if (closed) return;
        closed = true;
        await closeFd(fd).catch(() => undefined);
      },
    };
  }

  /** Runs `work` with a verified directory and always closes it. */
  async inDirectory<T>(virtual: string, work: (dir: DirectoryHandle) => Promise<T>): Promise<T> {
    const dir = await this.openDirectory(virtual);
    try {
      return await work(dir);
    } finally {
      await dir.close();
    }
  }

  /**
   * Stats what a host path finally names (links followed), only if that is inside the
   * root: O_PATH opens the inode without opening a device or waiting on a FIFO.
   */
  async statInside(hostPath: string): Promise<Stats> {
    if (!CAN_VERIFY_DESCRIPTORS) return fs.stat(await this.resolveExisting(hostPath));
    let fd: number;
    try {
      fd = await openFd(hostPath, O_PATH);
    } catch (error) {
      throw fromSystemError(error);
    }
    await this.verifyDescriptor(fd);
    try {
      return await fstatFd(fd);
    } catch (error) {
      throw fromSystemError(error);
    } finally {
      await closeFd(fd).catch(() => undefined);
    }
  }

  /**
   * Whether a symlink with this target, placed in the directory whose real path is
   * `realDirectory`, points inside the root (judged on the text: it may dangle).
   */
  linkTargetInside(target: string, realDirectory: string): Promise<boolean> {
    return this.isInside(resolve(realDirectory, target));
  }
}
