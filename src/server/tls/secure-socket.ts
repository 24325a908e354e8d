/**
 * Server-side TLS on an accepted TCP socket: the control connection after AUTH TLS or
 * on the implicit listener, and data connections under PROT P.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import { FtpError } from '../../errors.js';
import { events, type TlsHandshakeFailedEvent } from '../../observability/events.js';
import { withDeadline } from '../../util/deadline.js';
import { CloseNotifyWatch } from './close-notify.js';
import type { TlsSessionScope } from './session-scope.js';
import { FTP_ALPN } from './tls-provider.js';

/** Sees the TLS server name (SNI) a client asks for, before the certificate is chosen (it may make the scope adopt another). */
export type ServerNameHandler = (name: string) => void;

export interface ServerTlsOptions {
  scope: TlsSessionScope;
  handshakeTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Wraps `socket` as a TLS server socket of a control connection's scope, as its control
 * connection or one of its data connections (reading starts at once, so the ClientHello
 * is not missed). A TCP socket is wrapped natively; another Duplex is read through
 * JavaScript.
 */
export function wrapServerSocket(socket: Socket | Duplex, scope: TlsSessionScope, role: 'control' | 'data', onServerName?: ServerNameHandler): TLSSocket {
  const server = role === 'control' ? scope.controlHost : scope.dataHost;
  const SNICallback = onServerName && ((name: string, done: (error: Error | null, context?: SecureContext) => void) => {
    onServerName(name);
    done(null, scope.context);
  });
  return new TLSSocket(socket, { isServer: true, secureContext: scope.context, server, ALPNProtocols: [FTP_ALPN], SNICallback });
}

/**
 * Resolves once the handshake completes; rejects (and destroys the socket) on failure or
 * timeout. TLS 1.3 session tickets go out after the handshake, and data written in the
 * same turn overtakes them, so this resolves a turn later: a client that saves its
 * session right after the handshake (wget over implicit FTPS, which then reads the 220
 * banner instead of a ticket) or that shuts down after the first data (Python's ssl)
 * finds the ticket first.
 */
export async function handshake(secure: TLSSocket, options: Omit<ServerTlsOptions, 'scope'>): Promise<TLSSocket> {
  await withDeadline<void>(
    (resolve, reject) => {
      const onClose = () => reject(new Error('connection closed during the TLS handshake'));
      secure.once('error', reject);
      secure.once('close', onClose);
      secure.once('secure', () => resolve());
      return (error) => {
        secure.off('error', reject);
        secure.off('close', onClose);
        if (error) secure.destroy();
        else secure.on('error', () => undefined); // reported by whoever uses the socket
      };
    },
    {
      timeoutMs: options.handshakeTimeoutMs,
      onTimeout: () => new Error('TLS handshake timed out'),
      signal: options.signal,
      onAbort: () => new FtpError('FERRY_ERR_DATA_ABORTED'),
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return secure;
}

/** A data connection under PROT P; for an upload, with the watch that tells how the client ended it. */
export interface SecureDataConnection {
  socket: TLSSocket;
  closeNotify: CloseNotifyWatch | null;
}

/**
 * Protects a data connection (PROT P). With `requireReuse`, the client must resume a TLS
 * session of the control connection (see TlsSessionScope), else the transfer is refused
 * with 522 as vsftpd does.
 */
export async function secureDataSocket(
  tcp: Socket,
  options: ServerTlsOptions & { requireReuse: boolean; upload: boolean },
): Promise<SecureDataConnection> {
  options.scope.beginDataConnection({ clientReads: !options.upload });
  const wrapped = wrapServerSocket(tcp, options.scope, 'data');
  // Watching from the start: a client's close_notify can come with the handshake.
  const closeNotify = options.upload ? new CloseNotifyWatch(wrapped, tcp) : null;
  // Read at once: an upload that ends with the handshake has closed by the time handshake() returns.
  let reused = false;
  wrapped.once('secure', () => (reused = wrapped.isSessionReused()));
  let secure: TLSSocket;
  try {
    secure = await handshake(wrapped, options);
  } catch (error) {
    if (error instanceof FtpError) throw error;
    events.tlsHandshakeFailed.publish({ connection: 'data', reason: (error as Error).message } satisfies TlsHandshakeFailedEvent);
    throw new FtpError('FERRY_ERR_DATA_CONNECT', `Can't open data connection: TLS negotiation failed (${(error as Error).message}).`);
  }
  if (options.requireReuse && !reused) {
    secure.destroy();
    throw new FtpError('FERRY_ERR_TLS_REUSE');
  }
  return { socket: secure, closeNotify };
}
