/**
 * Client data connections: passive (EPSV first, PASV as fallback) or active (EPRT,
 * PORT for IPv4), optionally wrapped in TLS that resumes the control session. A server
 * that refuses EPSV or EPRT as unknown (500/502) is sent PASV or PORT directly for the
 * rest of the connection. Each opened connection is described in the trace: who
 * connected, from where to where, and the port arithmetic of a 227 reply.
 */
import { connect as connectTcp, createServer, isIPv4, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { canonicalAddress, encodeEprt, encodeHostPort, parseEpsvReply, parsePasvReply, sameAddress } from '../protocol/address.js';
import type { ServerCapabilities } from './capabilities.js';
import type { ControlConnection, TlsClientOptions, Trace } from './control.js';
import { FtpClientError, networkError, replyError } from './errors.js';
import { withDeadline } from '../util/deadline.js';

/**
 * Who opens the data connections. 'passive' (the default): the client connects to a port
 * the server opens (EPSV, then PASV); works through NAT and firewalls on the client's
 * side. 'active': the server connects back to a port the client opens (EPRT, then PORT);
 * needs the client to be reachable from the server.
 */
export type DataMode = 'passive' | 'active';

/**
 * One data command, used alone with no fallback to the other command of its mode:
 * 'EPSV' (RFC 2428 passive, IPv4 and IPv6), 'PASV' (RFC 959 passive, IPv4), 'EPRT'
 * (RFC 2428 active, IPv4 and IPv6) or 'PORT' (RFC 959 active, IPv4 only). A refusal is
 * an error of kind 'reply' with the server's code.
 */
export type DataCommand = 'EPSV' | 'PASV' | 'EPRT' | 'PORT';

/** The mode a data command belongs to. */
export function modeOf(command: DataCommand): DataMode {
  return command === 'EPSV' || command === 'PASV' ? 'passive' : 'active';
}

export interface DataOptions {
  mode: DataMode;
  /**
   * This command only, with no fallback (EPSV without PASV, PORT without EPRT, ...);
   * by default passive tries EPSV, then PASV, and active tries EPRT, then PORT.
   */
  command?: DataCommand;
  /**
   * Passive: connect to the address a 227 reply gives even when it is not the control
   * host. By default the control host is used instead, as curl and basic-ftp do: a server
   * behind NAT without a masquerade address advertises a private address nobody reaches.
   */
  trustPasvAddress?: boolean;
  /** Active: address to listen on (default: the control connection's local address). */
  activeHost?: string;
  timeoutMs: number;
  trace?: Trace;
  /** Where a 500/502 to EPSV or EPRT is remembered; without `command`, a remembered refusal skips the command. */
  capabilities: ServerCapabilities;
}

/** A prepared data connection; `connected()` resolves once the TCP (and TLS) link is up. */
export interface PendingData {
  connected(tls: (TlsClientOptions & { session?: Buffer }) | null): Promise<Socket>;
  close(): void;
}

/** "data connection: client 127.0.0.1:45862 -> server 127.0.0.1:39735 (passive, opened by the client)". */
function describe(socket: Socket, mode: DataMode): string {
  const local = `${socket.localAddress}:${socket.localPort}`;
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  return mode === 'passive'
    ? `data connection: client ${local} -> server ${remote} (passive, opened by the client)`
    : `data connection: server ${remote} -> client ${local} (active, opened by the server)`;
}

async function wrapTls(socket: Socket, tls: TlsClientOptions & { session?: Buffer }, trace?: Trace): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls(
      {
        socket,
        session: tls.session,
        servername: tls.servername && !/^[\d.:]+$/.test(tls.servername) ? tls.servername : undefined,
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
        ca: tls.ca,
        minVersion: 'TLSv1.2',
      },
      () => {
        secure.off('error', onError);
        trace?.(`data connection TLS: ${secure.getProtocol()}, session ${secure.isSessionReused() ? 'resumed from the control connection' : 'new (not resumed)'}`);
        resolve(secure);
      },
    );
    const onError = (error: Error) => reject(networkError(error, 'TLS handshake on the data connection'));
    secure.once('error', onError);
  });
}

/** The passive connection failed: say where, how, and that active mode may work. */
function connectWithTimeout(host: string, port: number, timeoutMs: number, command: string): Promise<Socket> {
  const where = `passive data connection to ${host}:${port} (${command})`;
  return withDeadline<Socket>(
    (resolve, reject) => {
      const socket = connectTcp({ host, port });
      socket.once('error', (error) => {
        const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
        reject(networkError(error, `cannot open the ${where}${refused ? ' (nothing listens there, or a firewall rejects it; try active mode)' : ''}`));
      });
      socket.once('connect', () => resolve(socket));
      return (error) => {
        if (error) {
          socket.destroy();
        } else {
          socket.removeAllListeners('error');
          socket.on('error', () => undefined); // reported by the transfer that uses it
        }
      };
    },
    {
      timeoutMs,
      onTimeout: () => new FtpClientError('timeout', `${where} timed out after ${timeoutMs / 1000} s: a firewall may drop the server's passive ports; try active mode`),
    },
  );
}

async function preparePassive(control: ControlConnection, options: DataOptions): Promise<PendingData> {
  const controlHost = canonicalAddress(control.remoteAddress);
  let host = controlHost;
  let port: number | null = null;
  let command = 'EPSV';
  const refusedBefore = options.command === undefined ? options.capabilities.refusalCode('EPSV') : undefined;
  if (refusedBefore !== undefined) options.trace?.(`EPSV was refused earlier on this connection (${refusedBefore}); sending PASV`);
  else if (options.command !== 'PASV') {
    const reply = await control.send('EPSV');
    if (reply.code === 229) {
      port = parseEpsvReply(reply.message);
      if (port === null) throw new FtpClientError('protocol', `cannot parse the EPSV reply: ${reply.message}`);
      options.trace?.(`EPSV: server listens on port ${port} of ${controlHost}`);
    } else if (options.command !== 'EPSV' && (reply.code >= 500 || reply.code === 425)) {
      options.capabilities.noteRefusal('EPSV', reply.code, reply.message);
      options.trace?.(`EPSV refused (${reply.code}); trying PASV`);
    } else throw replyError('EPSV', reply.code, reply.message);
  }
  if (port === null) {
    command = 'PASV';
    const reply = await control.send('PASV');
    if (reply.code !== 227) throw replyError('PASV', reply.code, reply.message);
    const target = parsePasvReply(reply.message);
    if (!target) throw new FtpClientError('protocol', `cannot parse the PASV reply: ${reply.message}`);
    const [p1, p2] = [Math.floor(target.port / 256), target.port % 256];
    options.trace?.(`PASV: server listens on ${target.host} port ${p1}*256+${p2} = ${target.port}`);
    port = target.port;
    if (sameAddress(target.host, controlHost) || options.trustPasvAddress) host = target.host;
    else options.trace?.(`PASV address ${target.host} is not the control host; connecting to ${controlHost} instead (a server behind NAT advertises its private address; --trust-pasv-address uses the advertised one)`);
  }
  const socket = await connectWithTimeout(host, port, options.timeoutMs, command);
  options.trace?.(describe(socket, 'passive'));
  return {
    connected: async (tls) => (tls ? wrapTls(socket, tls, options.trace) : socket),
    close: () => socket.destroy(),
  };
}

async function prepareActive(control: ControlConnection, options: DataOptions): Promise<PendingData> {
  const localHost = options.activeHost ?? canonicalAddress(control.localAddress);
  const server: Server = createServer({ pauseOnConnect: true });
  server.listen(0, localHost);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const controlPeer = control.remoteAddress;
  /** Accepted but not yet handed to the transfer: close() must not leave it open. */
  let unclaimed: Socket | null = null;
  const accepted = new Promise<Socket>((resolve) => {
    server.on('connection', (socket: Socket) => {
      // Only the server we talk to may connect (a stranger could inject data otherwise).
      if (!sameAddress(socket.remoteAddress ?? '', controlPeer)) {
        options.trace?.(`refused a data connection from ${socket.remoteAddress}:${socket.remotePort}`);
        socket.destroy();
        return;
      }
      server.close();
      socket.on('error', () => undefined);
      unclaimed = socket;
      resolve(socket);
    });
  });
  const close = () => {
    server.close();
    unclaimed?.destroy();
  };
  try {
    const refusedBefore = options.command === undefined ? options.capabilities.refusalCode('EPRT') : undefined;
    if (refusedBefore !== undefined) options.trace?.(`EPRT was refused earlier on this connection (${refusedBefore}); sending PORT`);
    const eprt = options.command === 'PORT' || refusedBefore !== undefined ? null : await control.send(`EPRT ${encodeEprt(localHost, port)}`);
    if (eprt?.code === 200) {
      options.trace?.(`EPRT: client listens on ${localHost} port ${port}`);
    } else {
      if (eprt && (options.command === 'EPRT' || !isIPv4(localHost) || eprt.code < 500)) throw replyError('EPRT', eprt.code, eprt.message);
      if (!isIPv4(localHost)) throw new FtpClientError('usage', `PORT cannot name the IPv6 address ${localHost}; use EPRT`);
      if (eprt) {
        options.capabilities.noteRefusal('EPRT', eprt.code, eprt.message);
        options.trace?.(`EPRT refused (${eprt.code}); trying PORT`);
      }
      const argument = encodeHostPort(localHost, port);
      await control.expect(`PORT ${argument}`, (code) => code === 200);
      options.trace?.(`PORT: client listens on ${localHost} port ${Math.floor(port / 256)}*256+${port % 256} = ${port}`);
    }
  } catch (error) {
    close();
    throw error;
  }
  return {
    connected: async (tls) => {
      try {
        const socket = await withDeadline(accepted, {
          timeoutMs: options.timeoutMs,
          onTimeout: () =>
            new FtpClientError(
              'timeout',
              `the server did not open the active data connection to ${localHost}:${port} within ${options.timeoutMs / 1000} s: a firewall or NAT in front of this machine may block it; try passive mode`,
            ),
        });
        unclaimed = null;
        options.trace?.(describe(socket, 'active'));
        return tls ? await wrapTls(socket, tls, options.trace) : socket;
      } finally {
        server.close();
      }
    },
    close,
  };
}

export function prepareData(control: ControlConnection, options: DataOptions): Promise<PendingData> {
  const mode = options.command ? modeOf(options.command) : options.mode;
  return mode === 'active' ? prepareActive(control, options) : preparePassive(control, options);
}
