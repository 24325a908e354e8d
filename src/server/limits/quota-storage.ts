/**
 * A user's storage with their quota enforced (552 when an upload would pass it): every
 * upload is metered as it arrives and fails at the first chunk that would not fit, so it
 * is never committed (a STOR's temporary file is discarded, an APPE or REST+STOR rolled
 * back); a new file past the file count is refused before any data connection. What
 * lands, what is deleted and what a rename replaces keep the home's count (UsageLedger)
 * true. The byte meter needs to see each chunk, so a metered upload takes the stream
 * path, not splice(2).
 */
import { Writable } from 'node:stream';
import { FtpError } from '../../errors.js';
import type { DirectoryListing, Download, FileStat, ListOptions, StorageBackend, Upload, WriteOptions } from '../../storage/backend.js';
import type { Quota, UsageLedger } from './usage-ledger.js';

function quotaExceeded(quota: Quota, what: 'bytes' | 'files'): FtpError {
  const limit = what === 'bytes' ? `${quota.bytes} bytes` : `${quota.files} files`;
  return new FtpError('FERRY_ERR_QUOTA', `Quota exceeded (${limit}); nothing was stored.`);
}

/** The size of a file at `path`, or null when there is none (a directory is not a file). */
async function fileSize(storage: StorageBackend, path: string): Promise<number | null> {
  const stat: FileStat | null = await storage.stat(path).catch(() => null);
  return stat?.type === 'file' ? stat.size : null;
}

/**
 * Feeds `inner` and refuses, before writing it, the chunk that would make the upload grow
 * past what the ledger can give it. `growth(written)` is how much bigger the file ends up
 * than it was, after `written` bytes.
 */
function meteredStream(inner: Writable, ledger: UsageLedger, quota: Quota, growth: (written: number) => number, reserved: { bytes: number }): Writable {
  let written = 0;
  inner.on('error', (error) => meter.destroy(error));
  const meter: Writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const wanted = Math.max(0, growth(written + chunk.length)) - reserved.bytes;
      if (wanted > 0) {
        if (!ledger.fits(quota, wanted, false)) return callback(quotaExceeded(quota, 'bytes'));
        ledger.reserve(wanted, 0);
        reserved.bytes += wanted;
      }
      written += chunk.length;
      if (inner.write(chunk)) callback();
      else inner.once('drain', () => callback());
    },
    final(callback) {
      inner.end(callback);
    },
    destroy(error, callback) {
      if (error) inner.destroy(error);
      callback(error);
    },
  });
  return meter;
}

export class QuotaStorage implements StorageBackend {
  readonly capabilities: StorageBackend['capabilities'];
  readonly setModifiedTime?: StorageBackend['setModifiedTime'];
  readonly setMode?: StorageBackend['setMode'];
  readonly symlink?: StorageBackend['symlink'];

  constructor(
    private readonly inner: StorageBackend,
    private readonly ledger: UsageLedger,
    private quota: Quota,
  ) {
    this.capabilities = inner.capabilities;
    this.setModifiedTime = inner.setModifiedTime?.bind(inner);
    this.setMode = inner.setMode?.bind(inner);
    this.symlink = inner.symlink?.bind(inner);
  }

  /** New limits (a config reload), for the next upload, deletion or rename. */
  setQuota(quota: Quota): void {
    this.quota = quota;
  }

  stat(path: string): Promise<FileStat> {
    return this.inner.stat(path);
  }

  list(path: string, options?: ListOptions): Promise<DirectoryListing> {
    return this.inner.list(path, options);
  }

  read(path: string, options?: { start?: number }): Promise<Download> {
    return this.inner.read(path, options);
  }

  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }

  rmdir(path: string): Promise<void> {
    return this.inner.rmdir(path);
  }

  async write(path: string, options: WriteOptions = {}): Promise<Upload> {
    const { ledger, quota } = this;
    await ledger.ready();
    const previous = await fileSize(this.inner, path);
    const newFile = previous === null;
    // Where the new bytes start: APPE after the old ones, REST+STOR at its offset (the
    // file then ends where they end), STOR at 0 over a file replaced on commit.
    const start = options.append ? (previous ?? 0) : (options.start ?? 0);
    const growth = (written: number) => start + written - (previous ?? 0);
    if (newFile && !ledger.fits(quota, 0, true)) throw quotaExceeded(quota, 'files');
    // Full already: refused before the data connection, as ProFTPD's quotas do, unless its
    // first bytes only replace old ones (an overwrite, a REST+STOR inside the file).
    if (quota.bytes > 0 && growth(1) > 0 && !ledger.fits(quota, growth(1), false)) throw quotaExceeded(quota, 'bytes');
    const upload = await this.inner.write(path, options);
    const reserved = { bytes: 0, files: newFile ? 1 : 0 };
    ledger.reserve(0, reserved.files);
    const giveBack = () => {
      ledger.reserve(-reserved.bytes, -reserved.files);
      reserved.bytes = 0;
      reserved.files = 0;
    };
    const metered = quota.bytes > 0;
    return {
      stream: metered ? meteredStream(upload.stream, ledger, quota, growth, reserved) : upload.stream,
      ...(!metered && upload.receiveFrom && { receiveFrom: upload.receiveFrom.bind(upload) }),
      commit: async () => {
        let size: number;
        try {
          await upload.commit();
          // What landed, as the storage sees it (whichever path carried the bytes).
          size = (await fileSize(this.inner, path)) ?? 0;
        } catch (error) {
          giveBack();
          throw error;
        }
        // In one step: the reservation becomes usage, and no other upload finds the bytes counted nowhere meanwhile.
        giveBack();
        ledger.record(size - (previous ?? 0), newFile ? 1 : 0);
      },
      abort: async () => {
        giveBack();
        await upload.abort();
      },
    };
  }

  async delete(path: string): Promise<void> {
    await this.ledger.ready();
    const size = await fileSize(this.inner, path);
    await this.inner.delete(path);
    if (size !== null) this.ledger.record(-size, -1);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.ledger.ready();
    const replaced = await fileSize(this.inner, to);
    await this.inner.rename(from, to);
    if (replaced !== null) this.ledger.record(-replaced, -1);
  }
}
