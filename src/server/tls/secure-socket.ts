/**
 * Server-side TLS on an accepted TCP socket: the control connection after AUTH TLS or
 * on the implicit listener, and data connections under PROT P.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import { FtpError } from '../../errors.js';
import { FTP_ALPN } from './tls-provider.js';

export interface ServerTlsOptions {
  context: SecureContext;
  handshakeTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Wraps `socket` as a TLS server socket (reading starts at once, so the ClientHello is not
 * missed). A TCP socket is wrapped natively; another Duplex is read through JavaScript.
 */
export function wrapServerSocket(socket: Socket | Duplex, context: SecureContext): TLSSocket {
  return new TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: [FTP_ALPN] });
}

/** Resolves once the handshake completes; rejects (and destroys the socket) on failure or timeout. */
export function handshake(secure: TLSSocket, options: Omit<ServerTlsOptions, 'context'>): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), options.handshakeTimeoutMs);
    const onAbort = () => fail(new FtpError('FERRY_ERR_DATA_ABORTED'));
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      secure.off('error', fail);
      secure.off('close', onClose);
    };
    const onClose = () => fail(new Error('connection closed during the TLS handshake'));
    function fail(error: Error) {
      cleanup();
      secure.destroy();
      reject(error);
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    secure.once('error', fail);
    secure.once('close', onClose);
    secure.once('secure', () => {
      cleanup();
      secure.on('error', () => undefined); // reported by whoever uses the socket
      resolve(secure);
    });
  });
}

/**
 * Protects a data connection (PROT P). With `requireReuse`, the client must resume the
 * control connection's TLS session (only tickets issued on this control connection
 * decrypt, see TlsProvider), else the transfer is refused with 522 as vsftpd does.
 */
export async function secureDataSocket(socket: Socket | Duplex, options: ServerTlsOptions & { requireReuse: boolean }): Promise<TLSSocket> {
  let secure: TLSSocket;
  try {
    secure = await handshake(wrapServerSocket(socket, options.context), options);
  } catch (error) {
    if (error instanceof FtpError) throw error;
    throw new FtpError('FERRY_ERR_DATA_CONNECT', `Can't open data connection: TLS negotiation failed (${(error as Error).message}).`);
  }
  if (options.requireReuse && !secure.isSessionReused()) {
    secure.destroy();
    throw new FtpError('FERRY_ERR_TLS_REUSE');
  }
  // TLS 1.3 session tickets go out right after the handshake; data written in the same
  // turn can overtake them, and some clients (Python's ssl) then fail their shutdown.
  await new Promise((resolve) => setImmediate(resolve));
  return secure;
}
