/**
 * Active mode: the server connects to the address the client gave in PORT/EPRT, from
 * the control connection's local address, and classically from port 20 when the
 * process may bind it (root); otherwise, or when port 20 is busy, from an ephemeral port.
 */
import { connect, type Socket } from 'node:net';
import { FtpError } from '../../errors.js';
import { withDeadline } from '../../util/deadline.js';
import { DataConnectError } from './data-connect-error.js';

export interface ActiveTarget {
  host: string;
  port: number;
}

export interface ActiveConnectOptions {
  localAddress: string;
  fromPort20: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

const PORT_20_FALLBACK = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'EPERM']);

function attempt(target: ActiveTarget, options: ActiveConnectOptions, localPort: number | undefined): Promise<Socket> {
  return withDeadline<Socket>(
    (resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port, localAddress: options.localAddress, localPort });
      // Nothing may be read before the transfer (or a TLS wrap) takes the socket over: a
      // ClientHello read into this socket's buffer would be lost to TLS.
      socket.pause();
      socket.once('error', reject);
      socket.once('connect', () => resolve(socket));
      return (error) => {
        socket.off('error', reject);
        if (error) socket.destroy();
        else socket.on('error', () => undefined); // reported by whoever uses the socket
      };
    },
    {
      timeoutMs: options.timeoutMs,
      onTimeout: () => DataConnectError.active(describeTarget(target), 'timed-out'),
      signal: options.signal,
      onAbort: () => new FtpError('FERRY_ERR_DATA_ABORTED'),
    },
  );
}

export async function connectActive(target: ActiveTarget, options: ActiveConnectOptions): Promise<Socket> {
  if (options.fromPort20) {
    try {
      return await attempt(target, options, 20);
    } catch (error) {
      if (!PORT_20_FALLBACK.has((error as NodeJS.ErrnoException).code ?? '')) throw wrap(target, error);
    }
  }
  return attempt(target, options, undefined).catch((error: unknown) => {
    throw wrap(target, error);
  });
}

/** "10.1.0.2:40000", "[2001:db8::1]:40000". */
function describeTarget(target: ActiveTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

function wrap(target: ActiveTarget, error: unknown): FtpError {
  if (error instanceof FtpError) return error;
  return DataConnectError.fromErrno(describeTarget(target), error);
}
