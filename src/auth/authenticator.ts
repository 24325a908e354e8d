/**
 * The authentication seam: a user name and password in, a UserContext (storage root,
 * permissions) or a refusal out.
 */
import type { TlsMode } from '../config/schema.js';
import type { Permission } from './permissions.js';
import type { UserLimits } from './user-limits.js';

export interface UserContext {
  name: string;
  /** What is "/" for this user: a host folder, or with S3 storage a key prefix in the bucket. */
  home: string;
  permissions: ReadonlySet<Permission>;
  anonymous: boolean;
  /** The charset this user's names travel in (see charset.ts), overriding the site's; undefined: the site's. */
  charset?: string;
  /** The user's own quotas and limits (users file); the rest come from the site's [user_defaults] (see effectiveLimits). */
  limits?: Partial<UserLimits>;
  /** The user's own TLS policy (users file `tls`), overriding the site's; undefined: the site's. */
  tls?: TlsMode;
}

export interface AuthContext {
  remoteAddress: string;
}

export interface Authenticator {
  /** Whether USER name needs a real password (false for anonymous names when anonymous is on). */
  isAnonymousName(name: string): boolean;
  authenticate(name: string, password: string, context: AuthContext): Promise<UserContext | null>;
  /** Whether `name` is a user here, asked after a refused login so the log can say "unknown user" (never the client). */
  knowsUser?(name: string): boolean;
  /**
   * A per-user TLS policy that overrides the server's, if this user has one: asked before
   * login (USER, PASS), and once at login when the UserContext carries no `tls`; from then
   * on the session's UserContext holds it, so a data command costs no lookup.
   */
  tlsModeFor?(name: string): TlsMode | undefined;
}
