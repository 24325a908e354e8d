/** FTPS (RFC 4217 / RFC 2228): AUTH TLS, PBSZ, PROT, CCC. */
import { Reply } from '../../protocol/replies.js';
import { TLS_MECHANISMS, type Session } from '../session.js';
import type { CommandSpec } from './types.js';

function tlsAvailable(session: Session): boolean {
  return session.server.tls !== null && session.server.tlsMode !== 'off';
}

export const tlsCommands: CommandSpec[] = [
  {
    verb: 'AUTH',
    syntax: 'AUTH <sp> TLS (SSL is accepted as an alias)',
    needsLogin: false,
    needsArgument: true,
    feat: (session) => (tlsAvailable(session) ? ['AUTH TLS'] : []),
    async handle({ session, arg }) {
      const mechanism = arg.trim().toUpperCase();
      const refuse = (code: number, text: string) => {
        session.cancelTlsUpgrade();
        session.reply(code, text);
      };
      if (!tlsAvailable(session)) {
        refuse(Reply.NotImplemented, 'TLS is not configured on this server.');
      } else if (session.secure) {
        refuse(Reply.BadSequence, 'The control connection is already protected by TLS.');
      } else if (!TLS_MECHANISMS.has(mechanism)) {
        refuse(Reply.ParameterNotImplemented, `AUTH ${mechanism} is not supported; use AUTH TLS.`);
      } else {
        session.reply(Reply.SecurityExchangeOk, `AUTH ${mechanism} ok: proceed with TLS negotiation.`);
        await session.startTls();
      }
    },
  },
  {
    verb: 'PBSZ',
    syntax: 'PBSZ <sp> 0',
    needsLogin: false,
    needsArgument: true,
    feat: (session) => (tlsAvailable(session) ? ['PBSZ'] : []),
    handle({ session, arg }) {
      if (!session.secure) {
        session.reply(Reply.BadSequence, 'PBSZ needs a protected control connection: send AUTH TLS first.');
      } else if (!/^\d+$/.test(arg.trim())) {
        session.reply(Reply.ArgumentSyntaxError, 'PBSZ needs a decimal buffer size (0 for TLS).');
      } else {
        session.pbszDone = true;
        // TLS has no protection buffer: the answer is always 0 (RFC 4217 section 8).
        session.reply(Reply.CommandOk, 'PBSZ=0');
      }
    },
  },
  {
    verb: 'PROT',
    syntax: 'PROT <sp> C | P',
    needsLogin: false,
    needsArgument: true,
    feat: (session) => (tlsAvailable(session) ? ['PROT'] : []),
    handle({ session, arg }) {
      const level = arg.trim().toUpperCase();
      if (!session.secure) {
        session.reply(Reply.BadSequence, 'PROT needs a protected control connection: send AUTH TLS first.');
      } else if (!session.pbszDone) {
        session.reply(Reply.BadSequence, 'Send PBSZ 0 before PROT.');
      } else if (level === 'P' || level === 'C') {
        session.protection = level;
        session.reply(Reply.CommandOk, level === 'P' ? 'Protection level set to P (private): data connections use TLS.' : 'Protection level set to C (clear).');
      } else if (level === 'S' || level === 'E') {
        session.reply(Reply.ProtectionLevelNotSupported, `PROT ${level} is not supported with TLS; use P or C.`);
      } else {
        session.reply(Reply.ParameterNotImplemented, `Unknown protection level "${level}".`);
      }
    },
  },
  {
    verb: 'CCC',
    syntax: 'CCC (refused: the control connection stays encrypted)',
    needsLogin: true,
    handle({ session }) {
      session.reply(Reply.RequestDeniedForPolicy, 'CCC refused: the control connection stays encrypted.');
    },
  },
];
