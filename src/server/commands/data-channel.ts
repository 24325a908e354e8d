/**
 * Data-connection setup: PASV and EPSV (server listens), PORT and EPRT (server connects
 * back), with vsftpd's safety defaults: passive connections only from the client's own
 * address, active connections only to the client's own address and to ports >= 1024.
 */
import { asIPv4, encodeHostPort, formatEpsvPort, parseEprt, parseHostPort, sameAddress, type HostPort } from '../../protocol/address.js';
import { ERRORS } from '../../errors.js';
import { Reply } from '../../protocol/replies.js';
import { reply, type CommandContext, type CommandReply, type CommandSpec } from './types.js';

/** RFC 2577: refuse third-party targets and privileged ports (FTP bounce). */
function refuseBounce({ site, connection }: CommandContext, target: HostPort): string | null {
  if (site.config.active.promiscuous) return null;
  if (!sameAddress(target.host, connection.remoteAddress)) {
    // The usual cause is not an attack but a client behind NAT announcing its private address.
    return `Refusing to connect to ${target.host}: active mode may only connect back to your own address (${connection.remoteAddress}); behind NAT, use passive mode (PASV or EPSV).`;
  }
  if (target.port < 1024) return `Refusing to connect to privileged port ${target.port}.`;
  return null;
}

/**
 * An unspecified address ("0.0.0.0", "::") in PORT/EPRT means "the address you see me
 * at" (lftp sends "EPRT |2|::|port|" on IPv6); it is replaced by the control peer.
 */
function resolveUnspecified({ connection }: CommandContext, target: HostPort): HostPort {
  return target.host === '0.0.0.0' || target.host === '::' ? { ...target, host: connection.remoteAddress } : target;
}

function prepareActive(context: CommandContext, requested: HostPort): CommandReply {
  const { site, state, verb, data, logger } = context;
  const target = resolveUnspecified(context, requested);
  if (!site.config.active.enabled) return reply(Reply.NotImplemented, 'Active mode is disabled on this server; use PASV or EPSV.');
  if (state.epsvAll) return reply(Reply.BadSequence, `${verb} not allowed after EPSV ALL.`);
  const refusal = refuseBounce(context, target);
  if (refusal) {
    logger.warn({ code: 'FERRY_ERR_BOUNCE', reason: refusal, verb, target: `${target.host}:${target.port}` }, 'refused active data connection target');
    return reply(ERRORS.FERRY_ERR_BOUNCE.reply, refusal);
  }
  data.prepareActive(target);
  return reply(Reply.CommandOk, `${verb} command successful. Consider using PASV.`);
}

function passiveDisabled({ site }: CommandContext): CommandReply | null {
  return site.config.passive.enabled ? null : reply(Reply.NotImplemented, 'Passive mode is disabled on this server; use PORT or EPRT.');
}

export const dataChannelCommands: CommandSpec[] = [
  {
    verb: 'PASV',
    preparesTransfer: true,
    syntax: 'PASV (server listens for the data connection)',
    needsLogin: true,
    async handle(context) {
      const { site, state, connection, data } = context;
      const disabled = passiveDisabled(context);
      if (disabled) return disabled;
      if (state.epsvAll) return reply(Reply.BadSequence, 'PASV not allowed after EPSV ALL.');
      const choice = await site.passiveAddress(connection);
      const advertised = choice.address ?? asIPv4(connection.serverAddress);
      if (advertised === null) return reply(Reply.CannotOpenData, 'PASV cannot describe an IPv6 address; use EPSV.');
      const port = await data.preparePassive(advertised);
      context.logger.debug({ advertised, port, rule: choice.rule }, 'passive address chosen');
      // The rule goes after the numbers, without parentheses: clients take the first (h1,...,p2) group.
      const chosenBy = choice.address === null ? '' : ` Address from ${choice.rule.replace(/[()]/g, '')}.`;
      return reply(Reply.EnteringPassive, `Entering Passive Mode (${encodeHostPort(advertised, port)}).${chosenBy}`);
    },
  },
  {
    verb: 'EPSV',
    preparesTransfer: true,
    syntax: 'EPSV [<sp> 1 | 2 | ALL]',
    needsLogin: true,
    feat: () => ['EPSV'],
    async handle(context) {
      const { state, connection, data, arg } = context;
      const disabled = passiveDisabled(context);
      if (disabled) return disabled;
      const protocol = arg.trim().toUpperCase();
      if (protocol === 'ALL') {
        state.epsvAllEntered();
        return reply(Reply.CommandOk, 'EPSV ALL ok: only EPSV will be accepted from now on.');
      }
      const family = asIPv4(connection.serverAddress) === null ? '2' : '1';
      if (protocol !== '' && protocol !== family) return reply(Reply.UnsupportedNetworkProtocol, `Network protocol not supported on this connection, use (${family}).`);
      const port = await data.preparePassive();
      return reply(Reply.EnteringExtendedPassive, `Entering Extended Passive Mode ${formatEpsvPort(port)}.`);
    },
  },
  {
    verb: 'PORT',
    preparesTransfer: true,
    syntax: 'PORT <sp> h1,h2,h3,h4,p1,p2',
    needsLogin: true,
    needsArgument: true,
    handle(context) {
      const target = parseHostPort(context.arg);
      return target ? prepareActive(context, target) : reply(Reply.ArgumentSyntaxError, 'Illegal PORT command.');
    },
  },
  {
    verb: 'EPRT',
    preparesTransfer: true,
    syntax: 'EPRT <sp> |af|address|port|',
    needsLogin: true,
    needsArgument: true,
    feat: () => ['EPRT'],
    handle(context) {
      const target = parseEprt(context.arg.trim());
      if (target === null) return reply(Reply.ArgumentSyntaxError, 'Illegal EPRT command.');
      if ('error' in target) return reply(Reply.UnsupportedNetworkProtocol, 'Network protocol not supported, use (1,2).');
      return prepareActive(context, target);
    },
  },
];
