/**
 * A site is what a virtual host is: its settings, users, storage, TLS and passive
 * address rule (SiteSettings), plus the command table and the policies that run before
 * every handler. A server has one default site, built from the top-level config; HOST
 * and SNI will choose among several.
 */
import type { Logger } from 'pino';
import type { Authenticator, UserContext } from '../auth/authenticator.js';
import { effectiveTlsMode, type FerryConfig } from '../config/schema.js';
import { createNameCodec } from '../protocol/charset.js';
import type { StorageBackend, StorageCapabilities } from '../storage/backend.js';
import { LOCAL_CAPABILITIES, openLocalHome } from '../storage/local.js';
import { defaultCommandTable, type CommandTable } from './commands/table.js';
import { passiveAddressResolver } from './passive-address.js';
import { DEFAULT_POLICIES, type Policy } from './policies.js';
import type { SiteSettings } from './site-settings.js';
import { TlsProvider } from './tls/tls-provider.js';

export interface Site extends SiteSettings {
  readonly commands: CommandTable;
  /** Run in order before every handler; the first refusal wins. */
  readonly policies: readonly Policy[];
}

export interface SiteOptions {
  name?: string;
  hosts?: readonly string[];
  config: FerryConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Default: local folder storage of the user's home (created if missing). */
  openStorage?: (user: UserContext) => Promise<StorageBackend>;
  /** What `openStorage`'s backends can do, announced before login; default: local storage's, or unknown with a custom `openStorage`. */
  storageCapabilities?: Readonly<StorageCapabilities> | null;
  commands?: CommandTable;
  policies?: readonly Policy[];
}

export function createSite(options: SiteOptions): Site {
  const { config } = options;
  const tlsMode = effectiveTlsMode(config);
  return {
    name: options.name ?? 'default',
    hosts: options.hosts ?? [],
    config,
    authenticator: options.authenticator,
    openStorage: options.openStorage ?? ((user) => openLocalHome(user.home)),
    storageCapabilities: options.storageCapabilities !== undefined ? options.storageCapabilities : options.openStorage ? null : LOCAL_CAPABILITIES,
    tls: tlsMode !== 'off' && config.tls.cert && config.tls.key ? new TlsProvider({ cert: config.tls.cert, key: config.tls.key }) : null,
    tlsMode,
    nameCodec: createNameCodec(config.charset),
    passiveAddress: passiveAddressResolver({ address: config.passive.address, rules: config.passive.address_rules, logger: options.logger }),
    commands: options.commands ?? defaultCommandTable(),
    policies: options.policies ?? DEFAULT_POLICIES,
  };
}
