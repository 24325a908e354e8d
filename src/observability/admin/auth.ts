/**
 * Who may use the web admin: the admin token (`Authorization: Bearer TOKEN` on the JSON
 * API, or typed as the password on the login page) or the admin user with its scrypt
 * hash. A login gets a random session id in an HttpOnly, SameSite=Strict cookie and a
 * CSRF token that every state-changing request made with the cookie must carry.
 *
 * Failed logins are delayed and counted per address: past MAX_FAILURES within
 * FAILURE_WINDOW_MS an address is refused without a check until the window passes
 * (attempts count as they start, so parallel guesses cannot outrun the cap).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { verifyPassword } from '../../auth/password.js';

export const COOKIE_NAME = 'ferry_admin';
const SESSION_MS = 12 * 3600 * 1000;
const MAX_SESSIONS = 1000;
const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const MAX_TRACKED_ADDRESSES = 10_000;
/** Every failed login answers this late, so guessing goes slowly even under the cap. */
export const FAILED_LOGIN_DELAY_MS = 1000;

export interface AdminCredentials {
  token?: string;
  user?: string;
  /** A scrypt hash (auth/password.ts). */
  password?: string;
}

/** A logged-in browser. */
export interface LoginSession {
  /** For the log: "token" or the admin user's name. */
  who: string;
  csrf: string;
  expires: number;
}

/** Who made a request: a bearer of the token, or a logged-in browser. */
export type Principal = { kind: 'bearer'; who: string } | { kind: 'cookie'; who: string; session: LoginSession };

export type LoginResult = { ok: true; cookie: string } | { ok: false; status: 401 | 429; message: string };

/** Equal strings, compared in time that depends on neither (hashes first: lengths may differ). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) cookies.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return cookies;
}

export class AdminAuth {
  private readonly sessions = new Map<string, LoginSession>();
  /** Address -> failed logins in its current window; oldest window first. */
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The principal of `request`, or null when it shows neither a valid token nor a live login cookie. */
  principal(request: IncomingMessage): Principal | null {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) return this.credentials.token !== undefined && sameSecret(bearer, this.credentials.token) ? { kind: 'bearer', who: 'token' } : null;
    const id = parseCookies(request.headers.cookie).get(COOKIE_NAME);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return null;
    if (session.expires <= this.now()) {
      this.sessions.delete(id!);
      return null;
    }
    return { kind: 'cookie', who: session.who, session };
  }

  /** A state-changing request: a bearer needs nothing more; a cookie needs its CSRF token. */
  mayChange(principal: Principal, csrf: string | undefined): boolean {
    return principal.kind === 'bearer' || (csrf !== undefined && sameSecret(csrf, principal.session.csrf));
  }

  /** Checks a login form; on success the Set-Cookie value of a new login session. */
  async login(remote: string, user: string, password: string): Promise<LoginResult> {
    const now = this.now();
    this.sweepFailures(now);
    const attempts = this.failures.get(remote) ?? { count: 0, since: now };
    if (attempts.count >= MAX_FAILURES) {
      this.logger.warn({ remote, user }, 'web admin login refused: too many failures from this address');
      return { ok: false, status: 429, message: 'Too many failed logins from your address; try again later.' };
    }
    // Counted before the check, so guesses sent in parallel share the cap too. Kept in
    // order of each window's start (set() keeps a key's place), for sweepFailures.
    attempts.count++;
    this.failures.set(remote, attempts);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    const who = await this.check(user, password);
    if (who === null) {
      this.logger.warn({ remote, user, failures: attempts.count }, 'web admin login failed');
      await new Promise((resolve) => setTimeout(resolve, FAILED_LOGIN_DELAY_MS));
      return { ok: false, status: 401, message: 'Wrong user name, password or token.' };
    }
    this.failures.delete(remote);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { who, csrf: randomBytes(32).toString('base64url'), expires: now + SESSION_MS });
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.logger.info({ remote, who }, 'web admin login');
    return { ok: true, cookie: `${COOKIE_NAME}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}` };
  }

  /** Ends the login session of `request`; the Set-Cookie value that clears the cookie. */
  logout(request: IncomingMessage): string {
    const id = parseCookies(request.headers.cookie).get(COOKIE_NAME);
    if (id !== undefined) this.sessions.delete(id);
    return `${COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  /** "token", the user's name, or null. The password hash is checked even for a wrong name (no timing hint). */
  private async check(user: string, password: string): Promise<string | null> {
    const { token, user: adminUser, password: hash } = this.credentials;
    if (token !== undefined && sameSecret(password, token)) return 'token';
    if (adminUser === undefined || hash === undefined) return null;
    const nameMatches = sameSecret(user, adminUser);
    const passwordMatches = await verifyPassword(password, hash);
    return nameMatches && passwordMatches ? adminUser : null;
  }

  private sweepFailures(now: number): void {
    for (const [address, entry] of this.failures) {
      if (now - entry.since < FAILURE_WINDOW_MS) break;
      this.failures.delete(address);
    }
  }
}
