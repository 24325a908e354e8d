/**
 * Reading the bucket as directories: ListObjectsV2 with the delimiter "/" gives one
 * level (common prefixes are subdirectories), page by page, so no listing ever holds more
 * than one page plus the entries asked for.
 */
import { ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';
import type { DirectoryListing, FileStat } from './backend.js';
import { s3Call } from './s3-errors.js';

/** Most keys one ListObjectsV2 page returns (S3's own cap). */
const PAGE_KEYS = 1000;

const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;

/** A directory has no time of its own in S3: its marker's, else the epoch. */
export function directoryStat(name: string, mtime = new Date(0)): FileStat {
  return { name, type: 'directory', size: 0, mtime, mode: DIRECTORY_MODE };
}

export function fileStat(name: string, size: number, mtime: Date | undefined): FileStat {
  return { name, type: 'file', size, mtime: mtime ?? new Date(0), mode: FILE_MODE };
}

export interface ListedDirectory {
  listing: DirectoryListing;
  /** Whether anything at all was under the prefix (the marker included). */
  found: boolean;
}

/** One level under `prefix` (a directory's key prefix), at most `maxEntries` keys read. */
export async function listLevel(client: S3Client, bucket: string, prefix: string, maxEntries = Infinity): Promise<ListedDirectory> {
  const listing: DirectoryListing = [];
  let read = 0;
  let token: string | undefined;
  do {
    const page = await s3Call(() =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token, MaxKeys: Math.max(1, Math.min(PAGE_KEYS, maxEntries - read)) })),
    );
    for (const common of page.CommonPrefixes ?? []) {
      read++;
      const name = common.Prefix?.slice(prefix.length, -1);
      if (name) listing.push(directoryStat(name));
    }
    for (const object of page.Contents ?? []) {
      read++;
      const name = object.Key?.slice(prefix.length);
      // The directory's own marker is not an entry of it.
      if (name) listing.push(fileStat(name, object.Size ?? 0, object.LastModified));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (token && read >= maxEntries) {
      listing.truncated = true;
      break;
    }
  } while (token);
  return { listing, found: read > 0 };
}

/** The first `count` keys under `prefix` at any depth, in key order (a directory's marker comes first). */
export async function firstKeys(client: S3Client, bucket: string, prefix: string, count: number): Promise<_Object[]> {
  const page = await s3Call(() => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: count })));
  return page.Contents ?? [];
}

/**
 * Every key under `prefix` at any depth, or null when there are more than `limit` (read
 * no further than that).
 */
export async function allKeysUpTo(client: S3Client, bucket: string, prefix: string, limit: number): Promise<_Object[] | null> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3Call(() =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: Math.min(PAGE_KEYS, limit + 1 - objects.length) })),
    );
    objects.push(...(page.Contents ?? []));
    if (objects.length > limit) return null;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}
