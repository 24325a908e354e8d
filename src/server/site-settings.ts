/**
 * What a command handler may know about its site: its settings (banner, limits,
 * timeouts, passive and active rules, TLS), who may log in, where their files live, the
 * TLS material and the passive address rule. The command table and policies are the
 * rest of a Site (site.ts); handlers see the table only through CommandCatalog.
 */
import type { Authenticator, UserContext } from '../auth/authenticator.js';
import type { FerryConfig, TlsMode } from '../config/schema.js';
import type { NameCodec } from '../protocol/charset.js';
import type { StorageBackend, StorageCapabilities } from '../storage/backend.js';
import type { PassiveAddressResolver } from './passive-address.js';
import type { TlsProvider } from './tls/tls-provider.js';

export interface SiteSettings {
  readonly name: string;
  /** The host names HOST and SNI choose this site by (none for the default site, which takes the rest). */
  readonly hosts: readonly string[];
  readonly config: FerryConfig;
  readonly authenticator: Authenticator;
  /** Storage for a logged-in user. */
  openStorage(user: UserContext): Promise<StorageBackend>;
  /**
   * What that storage can do, for FEAT and HELP before login (clients such as lftp read
   * FEAT only then); null when unknown, and then nothing storage-dependent is announced
   * until a user is logged in. After login the user's own storage decides.
   */
  readonly storageCapabilities: Readonly<StorageCapabilities> | null;
  /** Certificate and contexts when TLS is configured, else null. */
  readonly tls: TlsProvider | null;
  readonly tlsMode: TlsMode;
  /** The charset (config `charset`) names travel in until a user with their own logs in or the client sends OPTS UTF8 ON. */
  readonly nameCodec: NameCodec;
  /** The address 227 replies give this client, or null for the control connection's local address. */
  readonly passiveAddress: PassiveAddressResolver;
}

/** Anonymous users are exempt from a site's TLS requirement. */
function anonymousTlsMode(siteMode: TlsMode): TlsMode {
  return siteMode === 'off' ? 'off' : 'optional';
}

/** The TLS policy for a user name before login: the user's own, else the site's; anonymous users are exempt. */
export function tlsModeFor(site: Pick<SiteSettings, 'authenticator' | 'tlsMode'>, name: string): TlsMode {
  const { authenticator, tlsMode } = site;
  if (authenticator.isAnonymousName(name)) return anonymousTlsMode(tlsMode);
  return authenticator.tlsModeFor?.(name) ?? tlsMode;
}

/**
 * The user as their session keeps them: with their own TLS policy (loggedInTlsMode reads
 * it from there), asked of the authenticator when its answer did not carry it.
 */
export function withOwnTlsMode(authenticator: Authenticator, user: UserContext): UserContext {
  if (user.tls !== undefined || user.anonymous) return user;
  const own = authenticator.tlsModeFor?.(user.name);
  return own === undefined ? user : { ...user, tls: own };
}

/**
 * The TLS policy for a logged-in user: the one their login brought, else the site's as it
 * is now (a reload's tls_mode applies from the next command); no users-file lookup.
 */
export function loggedInTlsMode(site: Pick<SiteSettings, 'tlsMode'>, user: Pick<UserContext, 'anonymous' | 'tls'>): TlsMode {
  return user.anonymous ? anonymousTlsMode(site.tlsMode) : (user.tls ?? site.tlsMode);
}
