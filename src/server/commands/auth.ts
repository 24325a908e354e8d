/** Login and session lifecycle: USER, PASS, ACCT, REIN, QUIT. */
import { promises as fs } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { UserContext } from '../../auth/authenticator.js';
import { ERRORS } from '../../errors.js';
import { events } from '../../observability/events.js';
import { Reply } from '../../protocol/replies.js';
import type { Session } from '../session.js';
import type { CommandSpec } from './types.js';

/** A login refused by the defender: 421 and the end of this connection. */
function refuseLogin(session: Session, code: 'FERRY_ERR_BANNED' | 'FERRY_ERR_LOGIN_FLOOD'): void {
  const { reply, message } = ERRORS[code];
  session.logger.debug({ code, reason: message }, 'login refused');
  session.close(reply, message);
}

export const authCommands: CommandSpec[] = [
  {
    verb: 'USER',
    sendsCredentials: true,
    syntax: 'USER <sp> username',
    needsLogin: false,
    needsArgument: true,
    handle({ session, arg }) {
      if (session.user) {
        session.reply(Reply.NotLoggedIn, "Can't change to another user; use REIN first.");
        return;
      }
      session.pendingUser = arg;
      if (session.server.authenticator.isAnonymousName(arg)) {
        session.reply(Reply.NeedPassword, 'Anonymous login ok, send your email address as password.');
      } else {
        session.reply(Reply.NeedPassword, `Password required for ${arg}.`);
      }
    },
  },
  {
    verb: 'PASS',
    sendsCredentials: true,
    syntax: 'PASS <sp> password',
    needsLogin: false,
    async handle({ session, arg }) {
      if (session.user) {
        session.reply(Reply.CommandSuperfluous, 'Already logged in.');
        return;
      }
      const name = session.pendingUser;
      if (name === null) {
        session.reply(Reply.BadSequence, 'Login with USER first.');
        return;
      }
      session.pendingUser = null;
      const { defender, config } = session.server;
      // Checked before the password, so a banned address costs no hashing.
      if (defender.isBanned(session.remoteAddress)) {
        refuseLogin(session, 'FERRY_ERR_BANNED');
        return;
      }
      // Counted while it runs, so a wave of parallel PASS commands cannot all get past the ban check.
      const check = defender.beginLoginCheck(session.remoteAddress);
      if (!check) {
        refuseLogin(session, 'FERRY_ERR_LOGIN_FLOOD');
        return;
      }
      let user: UserContext | null | undefined;
      let banned = false;
      try {
        user = await session.server.authenticator.authenticate(name, arg, { remoteAddress: session.remoteAddress });
      } finally {
        // Released once the check has settled, whatever happened meanwhile (the session
        // may have closed; releasing at close would let close-and-retry bypass the count),
        // with a failure scored in the same step. An authenticator error is no failed login.
        banned = check.end(user === null);
      }
      events.login.publish({ session, name, success: user !== null });
      if (!user) {
        session.loginFailures++;
        session.logger.warn({ user: name }, 'login failed');
        // vsftpd delay_failed_login: a timer, not a thread; this session reads no command meanwhile.
        await delay(config.defender.failed_login_delay * 1000);
        if (banned) {
          refuseLogin(session, 'FERRY_ERR_BANNED');
        } else if (session.loginFailures >= config.max_login_failures) {
          defender.record(session.remoteAddress, 'too-many-failures');
          session.close(Reply.ServiceNotAvailable, 'Too many failed logins; closing control connection.');
        } else {
          session.reply(Reply.NotLoggedIn, 'Login incorrect.');
        }
        return;
      }
      try {
        await fs.mkdir(user.home, { recursive: true });
        session.storage = await session.server.openStorage(user);
      } catch (error) {
        session.logger.error({ err: error, user: name }, 'cannot open the home directory');
        session.reply(Reply.NotLoggedIn, 'Login failed: home directory unavailable.');
        return;
      }
      session.user = user;
      session.cwd = '/';
      session.logger.info({ user: user.name }, 'logged in');
      session.reply(Reply.LoggedIn, user.anonymous ? 'Anonymous access granted, restrictions apply.' : 'Login successful.');
    },
  },
  {
    verb: 'ACCT',
    syntax: 'ACCT <sp> account-information',
    needsLogin: true,
    handle({ session }) {
      session.reply(Reply.CommandSuperfluous, 'ACCT not needed.');
    },
  },
  {
    verb: 'REIN',
    syntax: 'REIN (reinitialize: log out, keep the connection)',
    needsLogin: false,
    handle({ session }) {
      session.resetLogin();
      session.reply(Reply.ServiceReady, 'Ready for a new user.');
    },
  },
  {
    verb: 'QUIT',
    syntax: 'QUIT (end the session)',
    needsLogin: false,
    handle({ session }) {
      session.close(Reply.ClosingControl, 'Goodbye.');
    },
  },
];
