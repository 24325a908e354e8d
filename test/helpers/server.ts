/**
 * Starts a Ferry server in-process on 127.0.0.1 (or another loopback address), port 0,
 * serving a fresh temporary folder, with one read-write user "alice" (password
 * "secret"), one read-only user "bob" ("secret"), optionally anonymous access, extra
 * users, and TLS (the server's own copy of the shared test certificate, with an implicit
 * FTPS listener on port 0). `stop()` closes the server and removes its folders.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileAuthenticator } from '../../src/auth/file-authenticator.js';
import { hashPassword } from '../../src/auth/password.js';
import { READ_ONLY } from '../../src/auth/permissions.js';
import type { UserRecord } from '../../src/auth/users-file.js';
import { mergeConfig, validateConfig } from '../../src/config/load.js';
import type { FerryConfig } from '../../src/config/schema.js';
import type { HostPort } from '../../src/protocol/address.js';
import { FtpServer, type FtpServerOptions } from '../../src/server/server.js';
import { sharedCertificate, type Certificate } from './certificate.js';

export const USER = 'alice';
export const PASSWORD = 'secret';
export const READONLY_USER = 'bob';

export interface TestServer {
  server: FtpServer;
  host: string;
  /** Control port (plain FTP, or explicit FTPS with AUTH TLS). */
  port: number;
  /** Implicit FTPS port, or null when that listener does not run. */
  implicitPort: number | null;
  /** The admin listener (`admin.listen`, e.g. "127.0.0.1:0"), or null when it does not run. */
  admin: HostPort | null;
  /** Host folder that is "/" for alice, bob and the extra users. */
  root: string;
  /** Host folder that is "/" for anonymous users. */
  anonymousRoot: string;
  /** Scratch folder next to the server's, for the test's own files. */
  scratch: string;
  /** With `tls`: this server's own copy of the test certificate (safe to overwrite). */
  certificate: Certificate | null;
  config: FerryConfig;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Extra users (password "secret"), e.g. `{ carol: { tls: 'required' } }`. */
  users?: Record<string, Omit<UserRecord, 'passwordHash'>>;
  /**
   * True: `tls.cert`/`tls.key` point at the server's own copy of the shared test
   * certificate and `tls.implicit_port` is 0 (so tls.mode defaults to "required";
   * `overrides` can change any of it).
   */
  tls?: boolean;
  /** Where the server's JSON log lines go instead of stderr (see server-log.ts). */
  logTo?: pino.DestinationStream;
  /** The storage each logged-in user gets instead of local storage of their home. */
  openStorage?: FtpServerOptions['openStorage'];
  /** Run as one of several workers, sharing limits and bans through these (workers = N). */
  worker?: FtpServerOptions['worker'];
}

let cachedHash: Promise<string> | undefined;

/** `overrides` are config keys merged over the defaults described above. */
export async function startServer(overrides: Record<string, unknown> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const base = mkdtempSync(join(tmpdir(), 'ferry-test-'));
  const root = join(base, 'root');
  const anonymousRoot = join(base, 'anon');
  const scratch = join(base, 'scratch');
  for (const dir of [root, anonymousRoot, scratch]) mkdirSync(dir);
  try {
    const certificate = options.tls ? copySharedCertificate(join(base, 'tls')) : null;
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
          // Tests that fail logins on purpose need not wait for each 530; defender tests set it.
          defender: { failed_login_delay: 0 },
          ...(certificate ? { tls: { cert: certificate.cert, key: certificate.key, implicit_port: 0 } } : {}),
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
    for (const [name, record] of Object.entries(options.users ?? {})) users.set(name, { ...record, passwordHash: hash });
    const authenticator = new FileAuthenticator({
      lookup: (name) => users.get(name),
      defaultHome: root,
      anonymousRoot: config.anonymous.enabled ? anonymousRoot : undefined,
    });
    const logger = pino({ level: config.log.level }, options.logTo ?? pino.destination(2));
    const server = new FtpServer({ config, authenticator, logger, openStorage: options.openStorage, worker: options.worker });
    const bound = await server.listen();
    return {
      server,
      host: bound.address,
      port: bound.port,
      implicitPort: bound.implicitPort,
      admin: bound.admin,
      root,
      anonymousRoot,
      scratch,
      certificate,
      config,
      stop: async () => {
        await server.close(200);
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
}

/** Starts a server, runs `fn`, then stops the server and removes its folders. */
export async function withTestServer(
  overrides: Record<string, unknown>,
  fn: (server: TestServer) => Promise<void>,
  options: ServerOptions = {},
): Promise<void> {
  const server = await startServer(overrides, options);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

function copySharedCertificate(dir: string): Certificate {
  mkdirSync(dir);
  const source = sharedCertificate();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  copyFileSync(source.cert, cert);
  copyFileSync(source.key, key);
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}
