/** FTPS (RFC 4217 / RFC 2228): AUTH TLS, PBSZ, PROT, CCC. */
import { Reply } from '../../protocol/replies.js';
import type { SiteSettings } from '../site-settings.js';
import { reply, type CommandSpec } from './types.js';

/** AUTH arguments that start a TLS handshake. */
export const TLS_MECHANISMS: ReadonlySet<string> = new Set(['TLS', 'TLS-C', 'SSL']);

export function tlsAvailable(site: SiteSettings): boolean {
  return site.tls !== null && site.tlsMode !== 'off';
}

export const tlsCommands: CommandSpec[] = [
  {
    verb: 'AUTH',
    syntax: 'AUTH <sp> TLS (SSL is accepted as an alias)',
    needsLogin: false,
    needsArgument: true,
    feat: ({ site }) => (tlsAvailable(site) ? ['AUTH TLS'] : []),
    handle({ site, connection, arg }) {
      const mechanism = arg.trim().toUpperCase();
      if (!tlsAvailable(site)) return reply(Reply.NotImplemented, 'TLS is not configured on this server.');
      if (connection.secure) return reply(Reply.BadSequence, 'The control connection is already protected by TLS.');
      if (!TLS_MECHANISMS.has(mechanism)) return reply(Reply.ParameterNotImplemented, `AUTH ${mechanism} is not supported; use AUTH TLS.`);
      return { startTls: reply(Reply.SecurityExchangeOk, `AUTH ${mechanism} ok: proceed with TLS negotiation.`) };
    },
  },
  {
    verb: 'PBSZ',
    syntax: 'PBSZ <sp> 0',
    needsLogin: false,
    needsArgument: true,
    feat: ({ site }) => (tlsAvailable(site) ? ['PBSZ'] : []),
    handle({ state, connection, arg }) {
      if (!connection.secure) return reply(Reply.BadSequence, 'PBSZ needs a protected control connection: send AUTH TLS first.');
      if (!/^\d+$/.test(arg.trim())) return reply(Reply.ArgumentSyntaxError, 'PBSZ needs a decimal buffer size (0 for TLS).');
      state.bufferSizeNegotiated();
      // TLS has no protection buffer: the answer is always 0 (RFC 4217 section 8).
      return reply(Reply.CommandOk, 'PBSZ=0');
    },
  },
  {
    verb: 'PROT',
    syntax: 'PROT <sp> C | P',
    needsLogin: false,
    needsArgument: true,
    feat: ({ site }) => (tlsAvailable(site) ? ['PROT'] : []),
    handle({ state, connection, arg }) {
      const level = arg.trim().toUpperCase();
      if (!connection.secure) return reply(Reply.BadSequence, 'PROT needs a protected control connection: send AUTH TLS first.');
      if (!state.pbszDone) return reply(Reply.BadSequence, 'Send PBSZ 0 before PROT.');
      if (level === 'P' || level === 'C') {
        state.protectionSet(level);
        return reply(Reply.CommandOk, level === 'P' ? 'Protection level set to P (private): data connections use TLS.' : 'Protection level set to C (clear).');
      }
      if (level === 'S' || level === 'E') return reply(Reply.ProtectionLevelNotSupported, `PROT ${level} is not supported with TLS; use P or C.`);
      return reply(Reply.ParameterNotImplemented, `Unknown protection level "${level}".`);
    },
  },
  {
    verb: 'CCC',
    syntax: 'CCC (refused: the control connection stays encrypted)',
    needsLogin: true,
    handle: () => reply(Reply.RequestDeniedForPolicy, 'CCC refused: the control connection stays encrypted.'),
  },
];
