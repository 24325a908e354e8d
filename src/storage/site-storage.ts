/**
 * Where a site's users keep their files, from its [storage] table: folders (the default,
 * local storage of each user's home), or keys in an S3 bucket, where root, anonymous.root
 * and homes are key prefixes under storage.prefix.
 */
import type { Logger } from 'pino';
import type { UserContext } from '../auth/authenticator.js';
import type { FerryConfig } from '../config/schema.js';
import type { StorageBackend, StorageCapabilities } from './backend.js';
import { S3_CAPABILITIES, S3Backend } from './s3.js';
import { createS3Client } from './s3-client.js';
import { joinKeyPrefix } from './s3-keys.js';

export interface SiteStorage {
  /** Undefined for local storage (the site's default). */
  openStorage?: (user: UserContext) => Promise<StorageBackend>;
  storageCapabilities?: Readonly<StorageCapabilities>;
  /** Where a home is, for people: the folder, or s3://bucket/key-prefix. */
  describe(home: string): string;
}

export function siteStorage(config: FerryConfig, logger: Logger): SiteStorage {
  const { storage } = config;
  if (storage.type === 'local') return { describe: (home) => home };
  const client = createS3Client(config);
  const bucket = storage.bucket!;
  const prefixOf = (home: string) => joinKeyPrefix(storage.prefix, home);
  return {
    openStorage: async (user) => new S3Backend({ client, bucket, prefix: prefixOf(user.home), partSize: storage.part_size, logger }),
    storageCapabilities: S3_CAPABILITIES,
    describe: (home) => `s3://${bucket}/${prefixOf(home)}`,
  };
}
