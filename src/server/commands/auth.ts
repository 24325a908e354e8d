/** Login and session lifecycle: USER, PASS, ACCT, REIN, QUIT. */
import { setTimeout as delay } from 'node:timers/promises';
import type { UserContext } from '../../auth/authenticator.js';
import { ERRORS, type ErrorCode } from '../../errors.js';
import { events, type LoginEvent, type LoginRefusedEvent } from '../../observability/events.js';
import { Reply } from '../../protocol/replies.js';
import { withOwnTlsMode } from '../site-settings.js';
import { reply, type CommandContext, type CommandSpec, type Outcome } from './types.js';

/** A login refused by the defender: 421 and the end of this connection. */
function refuseLogin({ logger }: CommandContext, name: string, code: LoginRefusedEvent['code'] | 'FERRY_ERR_TOO_MANY_SESSIONS', reason?: string): Outcome {
  const { reply: replyCode, message } = ERRORS[code];
  logger.warn({ code, reason: reason ?? message, user: name }, 'login refused');
  return { close: reply(replyCode, message) };
}

/** A login refused before its password was checked: its own event (ferry:login is one per check), then the refusal. */
function refuseUnchecked(context: CommandContext, name: string, code: LoginRefusedEvent['code']): Outcome {
  events.loginRefused.publish({ session: context.summary, name, code } satisfies LoginRefusedEvent);
  return refuseLogin(context, name, code);
}

/**
 * Why the authenticator said no, for the log only: the client hears "Login incorrect."
 * either way, so it cannot probe for valid names (vsftpd and SFTPGo log the same split).
 */
function failedLoginCode({ site }: CommandContext, name: string): ErrorCode {
  return site.authenticator.knowsUser?.(name) === false ? 'FERRY_ERR_UNKNOWN_USER' : 'FERRY_ERR_BAD_PASSWORD';
}

const FAILED_LOGIN_REASONS: Partial<Record<ErrorCode, string>> = {
  FERRY_ERR_UNKNOWN_USER: 'unknown user',
  FERRY_ERR_BAD_PASSWORD: 'bad password',
};

async function checkPassword(context: CommandContext, name: string, password: string): Promise<Outcome> {
  const { state, site, defender, connection, logger } = context;
  const address = connection.remoteAddress;
  // Checked before the password, so a banned address costs no hashing.
  if (defender.isBanned(address)) return refuseUnchecked(context, name, 'FERRY_ERR_BANNED');
  // Counted while it runs, so a wave of parallel PASS commands cannot all get past the ban check.
  const check = defender.beginLoginCheck(address);
  if (!check) return refuseUnchecked(context, name, 'FERRY_ERR_LOGIN_FLOOD');
  let user: UserContext | null | undefined;
  let banned = false;
  try {
    user = await site.authenticator.authenticate(name, password, { remoteAddress: address });
  } finally {
    // Released once the check has settled, whatever happened meanwhile (the session
    // may have closed; releasing at close would let close-and-retry bypass the count),
    // with a failure scored in the same step. An authenticator error is no failed login.
    banned = check.end(user === null);
  }
  // One event per check, published once its outcome is known: a password accepted for a
  // home that cannot be opened is answered 530, so it is no successful login.
  const publish = (success: boolean) => events.login.publish({ session: context.summary, name, success } satisfies LoginEvent);
  if (!user) {
    publish(false);
    const failures = state.loginFailed();
    const code = failedLoginCode(context, name);
    // The last failure this connection may have: the same line says the connection closes.
    const closing = failures >= site.config.max_login_failures;
    logger.warn({ code, reason: FAILED_LOGIN_REASONS[code], user: name, failures, ...(closing && { closing: 'FERRY_ERR_TOO_MANY_FAILURES' }) }, 'login failed');
    // vsftpd delay_failed_login: a timer, not a thread; this session reads no command meanwhile.
    await delay(site.config.defender.failed_login_delay * 1000);
    if (banned) return refuseLogin(context, name, 'FERRY_ERR_BANNED');
    if (closing) {
      defender.record(address, 'too-many-failures');
      return { close: reply(ERRORS.FERRY_ERR_TOO_MANY_FAILURES.reply, ERRORS.FERRY_ERR_TOO_MANY_FAILURES.message) };
    }
    return reply(ERRORS[code].reply, ERRORS[code].message);
  }
  let storage;
  try {
    storage = await site.openStorage(user);
  } catch (error) {
    publish(false);
    logger.error({ err: error, user: name, code: 'FERRY_ERR_STORAGE', reason: 'the home directory cannot be opened' }, 'login failed');
    return reply(Reply.NotLoggedIn, 'Login failed: home directory unavailable.');
  }
  const admission = await context.allowances.admit({ site, user, storage, logger });
  if (!admission) {
    publish(false);
    return refuseLogin(context, user.name, 'FERRY_ERR_TOO_MANY_SESSIONS', 'the user has max_sessions sessions already');
  }
  // The connection closed while the cluster count was asked: nobody would give the slot back.
  if (context.signal.aborted) {
    admission.release();
    publish(false);
    return reply(Reply.NotLoggedIn, 'Login failed: connection closed.');
  }
  state.loggedIn(withOwnTlsMode(site.authenticator, user), admission);
  publish(true);
  logger.info({ user: user.name }, 'logged in');
  return reply(Reply.LoggedIn, user.anonymous ? 'Anonymous access granted, restrictions apply.' : 'Login successful.');
}

export const authCommands: CommandSpec[] = [
  {
    verb: 'USER',
    sendsCredentials: true,
    syntax: 'USER <sp> username',
    needsLogin: false,
    needsArgument: true,
    handle({ state, site, arg }) {
      if (state.user) return reply(Reply.NotLoggedIn, "Can't change to another user; use REIN first.");
      state.userNamed(arg);
      return site.authenticator.isAnonymousName(arg)
        ? reply(Reply.NeedPassword, 'Anonymous login ok, send your email address as password.')
        : reply(Reply.NeedPassword, `Password required for ${arg}.`);
    },
  },
  {
    verb: 'PASS',
    sendsCredentials: true,
    syntax: 'PASS <sp> password',
    needsLogin: false,
    handle(context) {
      const { state, arg } = context;
      if (state.user) return reply(Reply.CommandSuperfluous, 'Already logged in.');
      const name = state.pendingUser;
      if (name === null) return reply(Reply.BadSequence, 'Login with USER first.');
      state.passwordGiven();
      return checkPassword(context, name, arg);
    },
  },
  {
    verb: 'ACCT',
    syntax: 'ACCT <sp> account-information',
    needsLogin: true,
    handle: () => reply(Reply.CommandSuperfluous, 'ACCT not needed.'),
  },
  {
    verb: 'REIN',
    syntax: 'REIN (reinitialize: log out, keep the connection)',
    needsLogin: false,
    handle: () => ({ reinitialize: reply(Reply.ServiceReady, 'Ready for a new user.') }),
  },
  {
    verb: 'QUIT',
    syntax: 'QUIT (end the session)',
    needsLogin: false,
    handle: () => ({ close: reply(Reply.ClosingControl, 'Goodbye.') }),
  },
];
