/**
 * The default Authenticator: users from a users file (and/or users given in code, like
 * the generated default user), plus optional anonymous read-only access.
 */
import { verifyPassword, hashPassword } from './password.js';
import { READ_ONLY, READ_WRITE } from './permissions.js';
import { VerifiedPasswordCache } from './verified-cache.js';
import type { AuthContext, Authenticator, UserContext } from './authenticator.js';
import type { UserRecord } from './users-file.js';
import type { TlsMode } from '../config/schema.js';

export interface FileAuthenticatorOptions {
  /** Looks a user up (a UsersFileWatcher, or a Map of users made in code). */
  lookup: (name: string) => UserRecord | undefined;
  /** Home for users without one of their own. */
  defaultHome: string;
  /** A user's own home from their record; default `record.home` (a folder). */
  homeOf?: (record: UserRecord) => string | undefined;
  /** Anonymous read-only access rooted here; off when undefined. */
  anonymousRoot?: string;
}

/** The names clients use for anonymous login (RFC 1635). */
export const ANONYMOUS_NAMES: ReadonlySet<string> = new Set(['anonymous', 'ftp']);

export class FileAuthenticator implements Authenticator {
  /** Verified against when the user does not exist, so timing does not reveal valid names. */
  private readonly decoyHash = hashPassword('ferry-decoy-password');
  /** Recently verified logins skip scrypt (see VerifiedPasswordCache for why that is safe). */
  private readonly verified = new VerifiedPasswordCache();

  constructor(private readonly options: FileAuthenticatorOptions) {}

  isAnonymousName(name: string): boolean {
    return this.options.anonymousRoot !== undefined && ANONYMOUS_NAMES.has(name.toLowerCase());
  }

  knowsUser(name: string): boolean {
    return this.isAnonymousName(name) || this.options.lookup(name) !== undefined;
  }

  tlsModeFor(name: string): TlsMode | undefined {
    return this.options.lookup(name)?.tls;
  }

  async authenticate(name: string, password: string, _context: AuthContext): Promise<UserContext | null> {
    if (this.isAnonymousName(name)) {
      return { name: 'anonymous', home: this.options.anonymousRoot!, permissions: READ_ONLY, anonymous: true };
    }
    const record = this.options.lookup(name);
    if (!record) {
      await verifyPassword(password, await this.decoyHash);
      return null;
    }
    if (!this.verified.has(name, password, record.passwordHash)) {
      if (!(await verifyPassword(password, record.passwordHash))) return null;
      this.verified.remember(name, password, record.passwordHash);
    }
    return {
      name,
      home: (this.options.homeOf ? this.options.homeOf(record) : record.home) ?? this.options.defaultHome,
      permissions: record.permissions ?? READ_WRITE,
      anonymous: false,
      charset: record.charset,
      limits: record.limits,
    };
  }
}
