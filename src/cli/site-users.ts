/**
 * Who may log in to a site and where their files are: the site's users file (watched,
 * one watcher per file however many sites share it) or, without one, a user "ferry"
 * with a password generated for this run (one for all such sites); its root and its
 * anonymous root, folders created if missing, or with S3 storage key prefixes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { FileAuthenticator } from '../auth/file-authenticator.js';
import { hashPassword } from '../auth/password.js';
import { readUsersFile, UsersFileWatcher, type UserRecord } from '../auth/users-file.js';
import type { FerryConfig } from '../config/schema.js';
import { siteStorage, type SiteStorage } from '../storage/site-storage.js';

export const GENERATED_USER = 'ferry';

export interface SiteUsers {
  authenticator: FileAuthenticator;
  /** A folder, or with S3 storage a key prefix (as are anonymousRoot and the homes). */
  root: string;
  anonymousRoot?: string;
  storage: SiteStorage;
}

export class SiteUserSource {
  private readonly watchers = new Map<string, UsersFileWatcher>();
  private generated: { password: string; record: Promise<UserRecord> } | null = null;

  /** `password`: the generated user's, when another process generated it (the primary, for its workers). */
  constructor(
    private readonly logger: Logger,
    private readonly password?: string,
  ) {}

  /** The password of the generated user, when a site without a users file asked for it. */
  get generatedPassword(): string | null {
    return this.generated?.password ?? null;
  }

  async forSite(config: FerryConfig): Promise<SiteUsers> {
    const local = config.storage.type === 'local';
    const root = local ? resolve(config.root) : config.root;
    const anonymousRoot = config.anonymous.enabled ? (local ? resolve(config.anonymous.root ?? root) : (config.anonymous.root ?? root)) : undefined;
    if (local) for (const folder of [root, ...(anonymousRoot ? [anonymousRoot] : [])]) mkdirSync(folder, { recursive: true });
    const lookup = config.users_file ? this.fileLookup(config.users_file) : await this.generatedLookup();
    // A home in the users file is a path relative to that file, or with S3 a key prefix as written.
    const homeOf = local ? undefined : (record: UserRecord) => record.homeAsWritten;
    return { authenticator: new FileAuthenticator({ lookup, defaultHome: root, anonymousRoot, homeOf }), root, anonymousRoot, storage: siteStorage(config, this.logger) };
  }

  private fileLookup(path: string): (name: string) => UserRecord | undefined {
    let watcher = this.watchers.get(path);
    if (!watcher) {
      watcher = new UsersFileWatcher(
        path,
        (error) => this.logger.error({ err: error.message, file: path }, 'users file reload failed; keeping the previous users'),
        (change) => this.logger.info({ file: path, ...change }, 'users file reloaded'),
      );
      this.watchers.set(path, watcher);
    }
    const found = watcher;
    return (name) => found.lookup(name);
  }

  private async generatedLookup(): Promise<(name: string) => UserRecord | undefined> {
    if (!this.generated) {
      const password = this.password ?? randomBytes(9).toString('base64url');
      this.generated = { password, record: hashPassword(password).then((passwordHash) => ({ passwordHash })) };
    }
    const record = await this.generated.record;
    return (name) => (name === GENERATED_USER ? record : undefined);
  }
}

/** The homes named in a users file (read afresh, so new users are included). */
export function userHomes(usersFile: string | undefined): string[] {
  if (!usersFile) return [];
  try {
    return [...readUsersFile(usersFile).values()].flatMap((user) => (user.home ? [user.home] : []));
  } catch {
    return []; // a broken users file is reported by the watcher
  }
}
