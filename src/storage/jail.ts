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
 * A file is opened in two steps: first as O_PATH (which names the inode without opening
 * it: no device side effect such as arming /dev/watchdog or rewinding a tape, no wait on
 * a FIFO), verified and fstat'ed; only a regular file is then reopened with the real
 * flags through /proc/self/fd/N, which is the same inode whatever the path now names.
 *
 * Without /proc (not Linux, or /proc not mounted), the fallback keeps the earlier
 * check-then-use: the real path is resolved and checked first, then used. That is not
 * race-free against a concurrent swap on disk; it still stops links that point out of
 * the root. The server warns at start-up when it runs on the fallback.
 */
import { close, closeSync, constants, existsSync, fstat, open, promises as fs, readlinkSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { getSystemErrorName, promisify } from 'node:util';
import { FtpError, fromSystemError, mapSystemErrors } from '../errors.js';
import { loadNativeAddon } from '../util/native-addon.js';

export const openFd = promisify(open);
export const fstatFd = promisify(fstat);
export const closeFd = promisify(close);

/** Whether descriptors can be located through /proc (Linux with /proc mounted). */
export function canVerifyDescriptors(platform: NodeJS.Platform = process.platform, descriptorDirectory = '/proc/self/fd'): boolean {
  return platform === 'linux' && existsSync(descriptorDirectory);
}

export const CAN_VERIFY_DESCRIPTORS = canVerifyDescriptors();

/**
 * Warns (once per call: call it once at start-up) when confinement falls back to
 * check-then-use, so an operator knows a racing local user could escape the root.
 * Returns whether it warned.
 */
export function warnIfConfinementRacy(logger: { warn(fields: object, message: string): void }, verifiable = CAN_VERIFY_DESCRIPTORS): boolean {
  if (verifiable) return false;
  logger.warn({ reason: '/proc/self/fd unavailable', platform: process.platform }, 'root confinement is not race-free here: /proc/self/fd unavailable');
  return true;
}

/** Linux O_PATH: a descriptor that names an inode without opening it (no device side effects). */
const O_PATH = 0o10000000;

/** The path through which the kernel reaches an open descriptor. */
export function descriptorPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/**
 * The fallback opens before it can check the type, so: O_NOFOLLOW, a link swapped in
 * since the check is not followed; O_NONBLOCK, opening a FIFO does not wait for its
 * other end; O_NOCTTY, a terminal never becomes the server's controlling terminal.
 */
const FALLBACK_OPEN_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Closes an O_PATH descriptor at once: it holds no open file (nothing to flush or
 * release), so close(2) cannot block, and a thread-pool round trip per RETR is saved.
 */
function closePathDescriptor(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EBADF only: nothing left to release
  }
}

/** Suffix the kernel adds to the link of a descriptor whose file was removed. */
const DELETED_SUFFIX = ' (deleted)';

/** An open regular file, with its size as fstat gave it before it was opened for real. */
export interface OpenedFile {
  fd: number;
  size: number;
}

/** native/open_inside.c: openFile's checks and opens in one trip through the thread pool. */
interface OpenAddon {
  openInside(path: string, flags: number, realRoot: string): Promise<OpenedFile>;
}

/** The one-trip open, unless it was not built or is switched off (FERRY_NATIVE_OPEN=0, which tests use for the JavaScript steps). */
function oneTripOpen(): OpenAddon | null {
  return process.env.FERRY_NATIVE_OPEN === '0' ? null : loadNativeAddon<OpenAddon>('ferry_open');
}

/** The addon's refusals that are not errno names. */
const OUTSIDE = 'FERRY_OUTSIDE';
const NOT_REGULAR = 'FERRY_NOT_REGULAR';

/** Only regular files are opened for real: a directory is refused as one, anything else is "not found". */
function assertRegularFile(stats: Stats): void {
  if (stats.isDirectory()) throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
  if (!stats.isFile()) throw new FtpError('FERRY_ERR_NOT_FOUND');
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
   * Where an open descriptor really is, checked against the root and returned; on any
   * failure the descriptor is closed. Without /proc this is a no-op (the path was
   * checked first) and returns null.
   */
  async verifyDescriptor(fd: number): Promise<string | null> {
    if (!CAN_VERIFY_DESCRIPTORS) return null;
    try {
      // Synchronous on purpose: the kernel answers a /proc/self/fd link from memory (no
      // I/O, whatever file system the descriptor is on), so a thread-pool round trip --
      // one of the few per RETR -- would cost more than the call.
      let real = readlinkSync(descriptorPath(fd));
      // A file removed since it was opened reads "path (deleted)"; where it was still
      // counts. Only then: an outside file may really be named "<root> (deleted)".
      if (real.endsWith(DELETED_SUFFIX) && (await fstatFd(fd)).nlink === 0) real = real.slice(0, -DELETED_SUFFIX.length);
      return await this.assertInside(real);
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
    const real = (await this.verifyDescriptor(fd)) as string;
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
   * An O_PATH descriptor for what a host path finally names (links followed), verified
   * to be inside the root; null when nothing is there (a dangling link included). The
   * caller closes it.
   */
  private async openPathInside(hostPath: string): Promise<number | null> {
    let fd: number;
    try {
      fd = await openFd(hostPath, O_PATH);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fromSystemError(error);
    }
    await this.verifyDescriptor(fd);
    return fd;
  }

  /** Stats what a host path finally names (links followed), only if that is inside the root. */
  statInside(hostPath: string): Promise<Stats> {
    return this.onInodeInside(hostPath, async (_path, stats) => stats);
  }

  /**
   * Runs `work` on what a host path finally names (links followed), once that is
   * verified to be inside the root. `work` gets a path that reaches that very inode
   * (the O_PATH descriptor's magic link, whatever the host path meanwhile names) and its
   * stats, so chmod(2) or utimes(2) on it cannot be redirected out of the root. The
   * fallback without /proc passes the checked real path (racy: see the top of this file).
   */
  async onInodeInside<T>(hostPath: string, work: (path: string, stats: Stats) => Promise<T>): Promise<T> {
    if (!CAN_VERIFY_DESCRIPTORS) {
      const real = await this.resolveExisting(hostPath);
      return mapSystemErrors(async () => work(real, await fs.stat(real)));
    }
    const fd = await this.openPathInside(hostPath);
    if (fd === null) throw new FtpError('FERRY_ERR_NOT_FOUND');
    try {
      return await mapSystemErrors(async () => work(descriptorPath(fd), await fstatFd(fd)));
    } finally {
      closePathDescriptor(fd);
    }
  }

  /**
   * Opens the regular file a host path finally names (links followed, in the middle and
   * as last component) with `flags`, only once its location and type are checked (see
   * the top of this file). Null when nothing is there (a dangling link included).
   */
  async openFile(hostPath: string, flags: number): Promise<OpenedFile | null> {
    if (!CAN_VERIFY_DESCRIPTORS) return this.openFileChecked(hostPath, flags);
    const addon = oneTripOpen();
    if (addon) return this.openFileInOneTrip(addon, hostPath, flags);
    const pathFd = await this.openPathInside(hostPath);
    if (pathFd === null) return null;
    try {
      const stats = await fstatFd(pathFd);
      assertRegularFile(stats);
      // Not O_NOFOLLOW: the magic link must be followed to the verified inode.
      return { fd: await openFd(descriptorPath(pathFd), flags), size: stats.size };
    } catch (error) {
      throw fromSystemError(error);
    } finally {
      closePathDescriptor(pathFd);
    }
  }

  /** The same steps as openFile's, in the addon, with the same answers. */
  private async openFileInOneTrip(addon: OpenAddon, hostPath: string, flags: number): Promise<OpenedFile | null> {
    try {
      return await addon.openInside(hostPath, flags, await this.rootReal());
    } catch (error) {
      const failed = error as NodeJS.ErrnoException;
      // A failed call carries its errno: named as Node names it, so fromSystemError maps it as for the JavaScript steps.
      if (failed.syscall !== undefined && failed.errno !== undefined) failed.code = getSystemErrorName(failed.errno);
      if (failed.code === 'ENOENT') return null;
      if (failed.code === OUTSIDE || failed.code === NOT_REGULAR) throw new FtpError('FERRY_ERR_NOT_FOUND');
      throw fromSystemError(failed);
    }
  }

  /**
   * The fallback without /proc: the real path is checked, then opened and its type
   * checked on the descriptor (racy: see the top of this file).
   */
  private async openFileChecked(hostPath: string, flags: number): Promise<OpenedFile | null> {
    const real = await fs.realpath(hostPath).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fromSystemError(error);
    });
    if (real === null) return null;
    let fd: number;
    try {
      fd = await openFd(await this.assertInside(real), flags | FALLBACK_OPEN_FLAGS);
    } catch (error) {
      throw fromSystemError(error);
    }
    try {
      const stats = await fstatFd(fd);
      assertRegularFile(stats);
      return { fd, size: stats.size };
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw fromSystemError(error);
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
