/**
 * HOST (RFC 7151): the client names the virtual host it wants before it logs in, as an
 * HTTP client sends Host. It selects the site: its users, storage, banner, limits and,
 * for data connections, TLS certificate. Names no site lists get the default site.
 */
import { Reply } from '../../protocol/replies.js';
import { normalizeHostName } from '../../protocol/address.js';
import { reply, type CommandSpec } from './types.js';

export const hostCommands: CommandSpec[] = [
  {
    verb: 'HOST',
    syntax: 'HOST <sp> host-name (before USER)',
    needsLogin: false,
    needsArgument: true,
    feat: () => ['HOST'],
    handle({ state, connection, sites, arg, logger }) {
      if (state.user || state.pendingUser !== null) return reply(Reply.BadSequence, 'HOST must come before USER; send REIN to start over.');
      if (state.hostName !== null) return reply(Reply.BadSequence, 'HOST was already given; send REIN to start over.');
      const name = normalizeHostName(arg);
      const site = sites.forHost(name);
      // RFC 7151 section 3.3: after TLS, the host must be the one the handshake was for.
      if (connection.serverName !== null && sites.forHost(connection.serverName) !== site) {
        logger.info({ host: name, serverName: connection.serverName }, 'HOST refused: not the TLS server name');
        return reply(Reply.ParameterNotImplemented, `HOST ${name} does not match the TLS server name ${connection.serverName}.`);
      }
      state.hostNamed(name);
      return { selectSite: { site: site.name, reply: reply(Reply.ServiceReady, site.config.banner) } };
    },
  },
];
