/** `ferry serve`: builds the server from config + flags and runs it until a signal. */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileAuthenticator } from '../auth/file-authenticator.js';
import { hashPassword } from '../auth/password.js';
import { UsersFileWatcher, type UserRecord } from '../auth/users-file.js';
import { loadConfig } from '../config/load.js';
import type { FerryConfig } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { FtpServer } from '../server/server.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  root?: string;
  passivePorts?: string;
  masquerade?: string;
  users?: string;
  anonymous?: boolean;
  logFormat?: string;
  logLevel?: string;
}

/** Flags as a config tree, so the schema checks them exactly like file values. */
function flagsToConfig(flags: ServeFlags): Record<string, unknown> {
  const port = flags.port === undefined ? undefined : /^\d+$/.test(flags.port) ? Number(flags.port) : flags.port;
  return {
    host: flags.host,
    port,
    root: flags.root === undefined ? undefined : resolve(flags.root),
    users_file: flags.users === undefined ? undefined : resolve(flags.users),
    anonymous: flags.anonymous ? { enabled: true } : undefined,
    passive: { ports: flags.passivePorts, address: flags.masquerade },
    log: { format: flags.logFormat, level: flags.logLevel },
  };
}

const GENERATED_USER = 'ferry';

export async function serve(flags: ServeFlags): Promise<void> {
  const config: FerryConfig = loadConfig({ file: flags.config, overrides: flagsToConfig(flags) });
  const logger = createLogger({ format: config.log.format, level: config.log.level });
  const root = resolve(config.root);
  mkdirSync(root, { recursive: true });
  const anonymousRoot = config.anonymous.enabled ? resolve(config.anonymous.root ?? root) : undefined;
  if (anonymousRoot) mkdirSync(anonymousRoot, { recursive: true });

  let lookup: (name: string) => UserRecord | undefined;
  let generatedPassword: string | null = null;
  if (config.users_file) {
    const watcher = new UsersFileWatcher(config.users_file, (error) => logger.error({ err: error.message }, 'users file reload failed; keeping the previous users'));
    lookup = (name) => watcher.lookup(name);
  } else {
    // No users file: one user with a password generated for this run, printed below.
    generatedPassword = randomBytes(9).toString('base64url');
    const generated: UserRecord = { passwordHash: await hashPassword(generatedPassword) };
    lookup = (name) => (name === GENERATED_USER ? generated : undefined);
  }
  const authenticator = new FileAuthenticator({ lookup, defaultHome: root, anonymousRoot });
  const server = new FtpServer({ config, authenticator, logger });
  const bound = await server.listen();
  const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  // One write, so a reader that sees the ready line also sees how to log in.
  const lines = [`Ferry FTP server ready on ${host}:${bound.port} (root ${root})`];
  if (generatedPassword) {
    lines.push(`  login: user "${GENERATED_USER}", password "${generatedPassword}" (generated for this run; add permanent users with \`ferry user add\`)`);
  }
  if (anonymousRoot) lines.push(`  anonymous read-only login: user "anonymous", any password (root ${anonymousRoot})`);
  const range = config.passive.ports;
  lines.push(`  passive ports ${range ? `${range.min}-${range.max}` : 'any free port'}${config.passive.address ? `, advertised address ${config.passive.address}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdown_grace }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
