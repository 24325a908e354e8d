/**
 * Virtual paths as S3 keys. A backend's namespace is everything under one key prefix
 * (storage.prefix joined with the user's root or home); a file "/a/b.txt" is the key
 * "PREFIX/a/b.txt", and a directory "/a" is the key prefix "PREFIX/a/" (with an optional
 * zero-byte "PREFIX/a/" marker object that MKD creates).
 */

/**
 * Joins prefix parts ("ftp", "/users/alice/") into one key prefix without leading,
 * trailing or doubled slashes ("ftp/users/alice"); "" is the bucket's top.
 */
export function joinKeyPrefix(...parts: readonly string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

export class S3Keys {
  /** "" or a prefix ending in "/". */
  private readonly base: string;

  constructor(prefix: string) {
    const joined = joinKeyPrefix(prefix);
    this.base = joined === '' ? '' : `${joined}/`;
  }

  /** The object key of a file (a normalised virtual path, not "/"). */
  file(virtual: string): string {
    return this.base + virtual.slice(1);
  }

  /** The key prefix of a directory's entries, which is also its marker's key. */
  directory(virtual: string): string {
    return virtual === '/' ? this.base : `${this.file(virtual)}/`;
  }
}

/**
 * CopyObject's x-amz-copy-source: "bucket/key", URL-encoded (the SDK sends it as given;
 * an unencoded "%", "+" or non-ASCII name would copy the wrong key or none).
 */
export function copySource(bucket: string, key: string): string {
  return `${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
