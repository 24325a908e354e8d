/**
 * Starts a Ferry server in-process on 127.0.0.1 (or another loopback address), port 0,
 * serving a fresh temporary folder, with one read-write user "alice" (password
 * "secret"), one read-only user "bob" ("secret") and optionally anonymous access.
 * `stop()` closes the server and removes the folder.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileAuthenticator } from '../../src/auth/file-authenticator.js';
import { hashPassword } from '../../src/auth/password.js';
import { READ_ONLY } from '../../src/auth/permissions.js';
import type { UserRecord } from '../../src/auth/users-file.js';
import { mergeConfig, validateConfig } from '../../src/config/load.js';
import type { FerryConfig } from '../../src/config/schema.js';
import { FtpServer } from '../../src/server/server.js';

export const USER = 'alice';
export const PASSWORD = 'secret';
export const READONLY_USER = 'bob';

export interface TestServer {
  server: FtpServer;
  host: string;
  port: number;
  /** Host folder that is "/" for alice and bob. */
  root: string;
  /** Host folder that is "/" for anonymous users. */
  anonymousRoot: string;
  config: FerryConfig;
  stop(): Promise<void>;
}

let cachedHash: Promise<string> | undefined;

export async function startServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const base = mkdtempSync(join(tmpdir(), 'ferry-test-'));
  const root = join(base, 'root');
  const anonymousRoot = join(base, 'anon');
  mkdirSync(root);
  mkdirSync(anonymousRoot);
  const config: FerryConfig = validateConfig(
    mergeConfig(
      {
        host: '127.0.0.1',
        port: 0,
        root,
        // Tests never hold fixed ports: unless a test sets a range, the OS picks passive ports.
        passive: { ports: '0' },
        log: { level: process.env.FERRY_TEST_LOG ?? 'silent' },
        shutdown_grace: 1,
      },
      overrides,
    ),
    'test',
  );
  cachedHash ??= hashPassword(PASSWORD);
  const hash = await cachedHash;
  const users = new Map<string, UserRecord>([
    [USER, { passwordHash: hash }],
    [READONLY_USER, { passwordHash: hash, permissions: READ_ONLY }],
  ]);
  const authenticator = new FileAuthenticator({
    lookup: (name) => users.get(name),
    defaultHome: root,
    anonymousRoot: config.anonymous.enabled ? anonymousRoot : undefined,
  });
  const logger = pino({ level: config.log.level }, pino.destination(2));
  const server = new FtpServer({ config: config, authenticator, logger });
  const bound = await server.listen();
  return {
    server,
    host: bound.address,
    port: bound.port,
    root,
    anonymousRoot,
    config: config,
    stop: async () => {
      await server.close(200);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
