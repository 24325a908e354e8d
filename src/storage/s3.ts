/**
 * Storage in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO): files are objects under
 * a key prefix, directories are key prefixes (and the zero-byte "dir/" markers MKD
 * creates). What S3 cannot do is declared in the capabilities, so APPE and REST+STOR
 * are refused up front (504) rather than faked by rewriting objects.
 *
 * Operations that the file system does in one step take a few requests here (a check,
 * then the change); S3 has no locks, so two clients racing on the same name see the
 * last writer win, as with any object store.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { FtpError } from '../errors.js';
import { forEachLimited } from '../util/limited.js';
import { streamDownload, type DirectoryListing, type Download, type FileStat, type ListOptions, type StorageBackend, type StorageCapabilities, type Upload, type WriteOptions } from './backend.js';
import { copyObject, DEFAULT_COPY_LIMITS, type CopyLimits } from './s3-copy.js';
import { fromS3Error, isNotFound, s3Call } from './s3-errors.js';
import { S3Keys } from './s3-keys.js';
import { allKeysUpTo, directoryStat, fileStat, firstKeys, listLevel } from './s3-listing.js';
import { startS3Upload } from './s3-upload.js';

export const S3_CAPABILITIES: Readonly<StorageCapabilities> = Object.freeze({
  resumeRead: true,
  resumeWrite: false,
  append: false,
  setModifiedTime: false,
  setMode: false,
  symlink: false,
});

const MIB = 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * MIB;
/** A directory rename copies every object under it: past this many it is refused. */
const DEFAULT_RENAME_MAX_OBJECTS = 1000;
const REQUESTS_AT_ONCE = 8;

export interface S3BackendOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix that is "/" for this backend ("" for the whole bucket). */
  prefix: string;
  /** Bytes per multipart-upload part (storage.part_size). */
  partSize?: number;
  renameMaxObjects?: number;
  copyLimits?: CopyLimits;
  logger?: Logger;
}

type Found = { type: 'file'; head: HeadObjectCommandOutput } | { type: 'directory'; mtime?: Date } | null;

export class S3Backend implements StorageBackend {
  readonly capabilities = S3_CAPABILITIES;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keys: S3Keys;
  private readonly partSize: number;
  private readonly renameMaxObjects: number;
  private readonly copyLimits: CopyLimits;
  private readonly logger: Logger | undefined;

  constructor(options: S3BackendOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.keys = new S3Keys(options.prefix);
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.renameMaxObjects = options.renameMaxObjects ?? DEFAULT_RENAME_MAX_OBJECTS;
    this.copyLimits = options.copyLimits ?? DEFAULT_COPY_LIMITS;
    this.logger = options.logger;
  }

  /** The object's metadata, or null when there is no such key. */
  private async head(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw fromS3Error(error);
    }
  }

  /** A directory exists when its marker or any key under it does. */
  private async findDirectory(virtual: string): Promise<{ mtime?: Date } | null> {
    if (virtual === '/') return {};
    const prefix = this.keys.directory(virtual);
    const [first] = await firstKeys(this.client, this.bucket, prefix, 1);
    if (!first) return null;
    return first.Key === prefix ? { mtime: first.LastModified } : {};
  }

  /** What is at a path: a file wins over a directory of the same name (S3 allows both). */
  private async find(virtual: string): Promise<Found> {
    if (virtual !== '/') {
      const head = await this.head(this.keys.file(virtual));
      if (head) return { type: 'file', head };
    }
    const directory = await this.findDirectory(virtual);
    return directory ? { type: 'directory', ...directory } : null;
  }

  private async requireParent(virtual: string): Promise<void> {
    const parent = posix.dirname(virtual);
    if (parent === '/') return;
    const found = await this.find(parent);
    if (!found) throw new FtpError('FERRY_ERR_NOT_FOUND');
    if (found.type !== 'directory') throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY');
  }

  private static refuseRoot(virtual: string): void {
    if (virtual === '/') throw new FtpError('FERRY_ERR_PERMISSION', 'The root directory cannot be changed.');
  }

  async stat(virtual: string): Promise<FileStat> {
    const found = await this.find(virtual);
    const name = posix.basename(virtual) || '/';
    if (!found) throw new FtpError('FERRY_ERR_NOT_FOUND');
    return found.type === 'file' ? fileStat(name, found.head.ContentLength ?? 0, found.head.LastModified) : directoryStat(name, found.mtime);
  }

  async list(virtual: string, options: ListOptions = {}): Promise<DirectoryListing> {
    const { listing, found } = await listLevel(this.client, this.bucket, this.keys.directory(virtual), options.maxEntries);
    if (!found && virtual !== '/') {
      if (await this.head(this.keys.file(virtual))) throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY');
      throw new FtpError('FERRY_ERR_NOT_FOUND');
    }
    return listing;
  }

  async read(virtual: string, options: { start?: number } = {}): Promise<Download> {
    const start = options.start ?? 0;
    const head = virtual === '/' ? null : await this.head(this.keys.file(virtual));
    if (!head) throw new FtpError((await this.findDirectory(virtual)) ? 'FERRY_ERR_IS_A_DIRECTORY' : 'FERRY_ERR_NOT_FOUND');
    const size = head.ContentLength ?? 0;
    if (start > size) throw new FtpError('FERRY_ERR_BAD_RESTART', `Restart position ${start} is beyond the end of the file (${size} bytes).`);
    // S3 has no empty range: a restart at the very end reads nothing.
    if (start === size && start > 0) return streamDownload(Readable.from([]), size, start);
    const response = await s3Call(() =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keys.file(virtual),
          Range: start > 0 ? `bytes=${start}-` : undefined,
          // The bytes of the version whose size was announced, not of one replaced since.
          IfMatch: head.ETag,
        }),
      ),
    );
    // In Node the body is the HTTP response itself: destroying it ends the request.
    return streamDownload(response.Body as Readable, size, start);
  }

  async write(virtual: string, options: WriteOptions = {}): Promise<Upload> {
    S3Backend.refuseRoot(virtual);
    if (options.append || (options.start ?? 0) > 0) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Appending and resumed uploads are not supported by S3 storage.');
    const [, directory] = await Promise.all([this.requireParent(virtual), this.findDirectory(virtual)]);
    if (directory) throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
    return startS3Upload({ client: this.client, bucket: this.bucket, key: this.keys.file(virtual), partSize: this.partSize, logger: this.logger });
  }

  async mkdir(virtual: string): Promise<void> {
    S3Backend.refuseRoot(virtual);
    await this.requireParent(virtual);
    if (await this.find(virtual)) throw new FtpError('FERRY_ERR_EXISTS');
    await s3Call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.directory(virtual), Body: new Uint8Array(0) })));
  }

  async rmdir(virtual: string): Promise<void> {
    S3Backend.refuseRoot(virtual);
    const marker = this.keys.directory(virtual);
    const keys = await firstKeys(this.client, this.bucket, marker, 2);
    if (keys.length === 0) {
      throw new FtpError((await this.head(this.keys.file(virtual))) ? 'FERRY_ERR_NOT_A_DIRECTORY' : 'FERRY_ERR_NOT_FOUND');
    }
    if (keys.some((object) => object.Key !== marker)) throw new FtpError('FERRY_ERR_NOT_EMPTY');
    await this.deleteKey(marker);
  }

  async delete(virtual: string): Promise<void> {
    S3Backend.refuseRoot(virtual);
    const found = await this.find(virtual);
    if (!found) throw new FtpError('FERRY_ERR_NOT_FOUND');
    if (found.type === 'directory') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
    await this.deleteKey(this.keys.file(virtual));
  }

  private async deleteKey(key: string): Promise<void> {
    await s3Call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** RNFR/RNTO: a server-side copy, then the source is deleted (S3 has no rename). */
  async rename(from: string, to: string): Promise<void> {
    S3Backend.refuseRoot(from);
    S3Backend.refuseRoot(to);
    const source = await this.find(from);
    if (!source) throw new FtpError('FERRY_ERR_NOT_FOUND');
    if (from === to) return;
    await this.requireParent(to);
    const target = await this.find(to);
    if (source.type === 'file') {
      if (target?.type === 'directory') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY');
      await copyObject(this.client, this.bucket, this.keys.file(from), this.keys.file(to), source.head.ContentLength ?? 0, this.copyLimits);
      await this.deleteKey(this.keys.file(from));
      return;
    }
    if (to.startsWith(`${from}/`)) throw new FtpError('FERRY_ERR_BAD_NAME', 'A directory cannot be moved into itself.');
    if (target?.type === 'file') throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY');
    if (target && (await firstKeys(this.client, this.bucket, this.keys.directory(to), 2)).some((object) => object.Key !== this.keys.directory(to))) {
      throw new FtpError('FERRY_ERR_NOT_EMPTY');
    }
    await this.renameDirectory(from, to);
  }

  /**
   * Copies every object under the directory, then deletes the originals. A failed copy
   * removes the copies made so far, so the source stays whole; bounded, because each
   * object is a request: a bigger directory is refused before anything is copied.
   */
  private async renameDirectory(from: string, to: string): Promise<void> {
    const fromPrefix = this.keys.directory(from);
    const toPrefix = this.keys.directory(to);
    const objects = await allKeysUpTo(this.client, this.bucket, fromPrefix, this.renameMaxObjects);
    if (objects === null) {
      throw new FtpError('FERRY_ERR_UNSUPPORTED', `Renaming a directory of more than ${this.renameMaxObjects} objects is not supported by S3 storage; move its contents in smaller parts.`);
    }
    const copied: string[] = [];
    try {
      await forEachLimited(objects, REQUESTS_AT_ONCE, async (object) => {
        const destination = toPrefix + object.Key!.slice(fromPrefix.length);
        await copyObject(this.client, this.bucket, object.Key!, destination, object.Size ?? 0, this.copyLimits);
        copied.push(destination);
      });
    } catch (error) {
      await forEachLimited(copied, REQUESTS_AT_ONCE, (key) => this.deleteKey(key)).catch((cleanup: unknown) =>
        this.logger?.error({ err: cleanup, from, to }, 'S3 directory rename failed and some copies could not be removed'),
      );
      throw error;
    }
    await forEachLimited(objects, REQUESTS_AT_ONCE, (object) => this.deleteKey(object.Key!)).catch((error: unknown) => {
      this.logger?.error({ err: error, from, to }, 'S3 directory rename copied everything but could not delete every original');
      throw error;
    });
  }
}
