/**
 * Data-connection setup: PASV and EPSV (server listens), PORT and EPRT (server connects
 * back), with vsftpd's safety defaults: passive connections only from the client's own
 * address, active connections only to the client's own address and to ports >= 1024.
 */
import { asIPv4, canonicalAddress, encodeHostPort, formatEpsvPort, parseEprt, parseHostPort, sameAddress, type HostPort } from '../../protocol/address.js';
import { Reply } from '../../protocol/replies.js';
import type { Session } from '../session.js';
import type { CommandSpec } from './types.js';

/** RFC 2577: refuse third-party targets and privileged ports (FTP bounce). */
function refuseBounce(session: Session, target: HostPort): string | null {
  if (session.server.config.active.promiscuous) return null;
  if (!sameAddress(target.host, session.remoteAddress)) {
    // The usual cause is not an attack but a client behind NAT announcing its private address.
    const peer = canonicalAddress(session.remoteAddress);
    return `Refusing to connect to ${target.host}: active mode may only connect back to your own address (${peer}); behind NAT, use passive mode (PASV or EPSV).`;
  }
  if (target.port < 1024) return `Refusing to connect to privileged port ${target.port}.`;
  return null;
}

/**
 * An unspecified address ("0.0.0.0", "::") in PORT/EPRT means "the address you see me
 * at" (lftp sends "EPRT |2|::|port|" on IPv6); it is replaced by the control peer.
 */
function resolveUnspecified(session: Session, target: HostPort): HostPort {
  return target.host === '0.0.0.0' || target.host === '::' ? { ...target, host: canonicalAddress(session.remoteAddress) } : target;
}

function prepareActive(session: Session, verb: string, requested: HostPort): void {
  const target = resolveUnspecified(session, requested);
  if (!session.server.config.active.enabled) {
    session.reply(Reply.NotImplemented, 'Active mode is disabled on this server; use PASV or EPSV.');
    return;
  }
  if (session.epsvAll) {
    session.reply(Reply.BadSequence, `${verb} not allowed after EPSV ALL.`);
    return;
  }
  const refusal = refuseBounce(session, target);
  if (refusal) {
    session.logger.warn({ target: `${target.host}:${target.port}`, reason: refusal }, 'refused active data connection target');
    session.reply(Reply.ParameterNotImplemented, refusal);
    return;
  }
  session.data.prepareActive(target);
  session.reply(Reply.CommandOk, `${verb} command successful. Consider using PASV.`);
}

function passiveDisabled(session: Session): boolean {
  if (session.server.config.passive.enabled) return false;
  session.reply(Reply.NotImplemented, 'Passive mode is disabled on this server; use PORT or EPRT.');
  return true;
}

export const dataChannelCommands: CommandSpec[] = [
  {
    verb: 'PASV',
    preparesTransfer: true,
    syntax: 'PASV (server listens for the data connection)',
    needsLogin: true,
    async handle({ session }) {
      if (passiveDisabled(session)) return;
      if (session.epsvAll) {
        session.reply(Reply.BadSequence, 'PASV not allowed after EPSV ALL.');
        return;
      }
      const advertised = (await session.server.masqueradeAddress()) ?? asIPv4(session.localAddress);
      if (advertised === null) {
        session.reply(Reply.CannotOpenData, 'PASV cannot describe an IPv6 address; use EPSV.');
        return;
      }
      const port = await session.data.preparePassive(advertised);
      session.reply(Reply.EnteringPassive, `Entering Passive Mode (${encodeHostPort(advertised, port)}).`);
    },
  },
  {
    verb: 'EPSV',
    preparesTransfer: true,
    syntax: 'EPSV [<sp> 1 | 2 | ALL]',
    needsLogin: true,
    feat: () => ['EPSV'],
    async handle({ session, arg }) {
      if (passiveDisabled(session)) return;
      const protocol = arg.trim().toUpperCase();
      if (protocol === 'ALL') {
        session.epsvAll = true;
        session.reply(Reply.CommandOk, 'EPSV ALL ok: only EPSV will be accepted from now on.');
        return;
      }
      const family = asIPv4(session.localAddress) === null ? '2' : '1';
      if (protocol !== '' && protocol !== family) {
        session.reply(Reply.UnsupportedNetworkProtocol, `Network protocol not supported on this connection, use (${family}).`);
        return;
      }
      const port = await session.data.preparePassive();
      session.reply(Reply.EnteringExtendedPassive, `Entering Extended Passive Mode ${formatEpsvPort(port)}.`);
    },
  },
  {
    verb: 'PORT',
    preparesTransfer: true,
    syntax: 'PORT <sp> h1,h2,h3,h4,p1,p2',
    needsLogin: true,
    needsArgument: true,
    handle({ session, arg, verb }) {
      const target = parseHostPort(arg);
      if (!target) {
        session.reply(Reply.ArgumentSyntaxError, 'Illegal PORT command.');
        return;
      }
      prepareActive(session, verb, target);
    },
  },
  {
    verb: 'EPRT',
    preparesTransfer: true,
    syntax: 'EPRT <sp> |af|address|port|',
    needsLogin: true,
    needsArgument: true,
    feat: () => ['EPRT'],
    handle({ session, arg, verb }) {
      const target = parseEprt(arg.trim());
      if (target === null) {
        session.reply(Reply.ArgumentSyntaxError, 'Illegal EPRT command.');
      } else if ('error' in target) {
        session.reply(Reply.UnsupportedNetworkProtocol, 'Network protocol not supported, use (1,2).');
      } else {
        prepareActive(session, verb, target);
      }
    },
  },
];
