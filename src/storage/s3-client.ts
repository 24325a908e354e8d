/** The S3 client of a site's [storage] table (one per site, shared by its sessions). */
import { S3Client } from '@aws-sdk/client-s3';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FerryConfig } from '../config/schema.js';

/**
 * A download holds its GET's socket for the whole transfer, so the SDK's default of 50
 * sockets would make the 51st concurrent RETR wait for a free one.
 */
const MAX_SOCKETS = 1024;
const CONNECT_TIMEOUT_MS = 10_000;

export function createS3Client(config: FerryConfig): S3Client {
  const { storage } = config;
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return new S3Client({
    endpoint: storage.endpoint,
    region: storage.region,
    forcePathStyle: storage.path_style,
    // Without keys in the table: the SDK's default chain (AWS_ACCESS_KEY_ID and
    // AWS_SECRET_ACCESS_KEY, profiles, instance roles).
    credentials: storage.access_key_id && storage.secret_access_key ? { accessKeyId: storage.access_key_id, secretAccessKey: storage.secret_access_key } : undefined,
    // Checksums only where S3 requires them: other S3-compatible servers (Ceph RGW 16,
    // older MinIO) reject or mishandle the newer flexible checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      // A request whose socket stays silent this long fails (and is retried) instead of
      // holding a transfer forever; a stalled FTP client gets as long (timeouts.data_idle).
      socketTimeout: config.timeouts.data_idle * 1000,
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
    },
  });
}
