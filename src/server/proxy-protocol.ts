/**
 * PROXY protocol on Ferry's listeners (HAProxy's `send-proxy` / `send-proxy-v2`): which
 * peers are trusted to send a header (`[proxy_protocol] trusted`), and reading that header
 * off a fresh connection. A trusted peer must send one before anything else; what follows
 * it is left in the socket (paused) for the session, TLS or the data transfer.
 */
import type { Socket } from 'node:net';
import { addressMatcher } from '../protocol/address.js';
import { parseProxyHeader, type ProxyEndpoint } from '../protocol/proxy-header.js';
import { withDeadline } from '../util/deadline.js';
import { markReadByJavaScript } from './data/read-by-javascript.js';

/** A trusted proxy sends its header at once; one that does not within this long is not working. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

export class ProxyTrust {
  /** PROXY protocol is on: some peer is trusted to send headers. */
  readonly enabled: boolean;
  private readonly matches: (address: string) => boolean;

  /** `trusted`: addresses and CIDR ranges (validated by the config schema). */
  constructor(trusted: readonly string[]) {
    this.enabled = trusted.length > 0;
    this.matches = addressMatcher(trusted);
  }

  trusts(address: string): boolean {
    return this.enabled && this.matches(address);
  }
}

/** The client and the address it connected to, or null for both when the proxy speaks for itself (LOCAL, UNKNOWN). */
export interface ProxiedAddresses {
  source: ProxyEndpoint | null;
  destination: ProxyEndpoint | null;
}

/**
 * Reads one PROXY header (v1 or v2) from a paused socket without reading past it: the
 * bytes after it go back into the socket, which stays paused. Rejects on a malformed or
 * missing header, on close, or after `timeoutMs`.
 */
export function readProxyHeader(socket: Socket, timeoutMs = PROXY_HEADER_TIMEOUT_MS): Promise<ProxiedAddresses> {
  return withDeadline<ProxiedAddresses>(
    (resolve, reject) => {
      let pending = Buffer.alloc(0);
      const onReadable = () => {
        let chunk: Buffer | null;
        while ((chunk = socket.read() as Buffer | null) !== null) {
          pending = Buffer.concat([pending, chunk]);
          const result = parseProxyHeader(pending);
          if (result.kind === 'incomplete') continue;
          if (result.kind === 'invalid') return reject(new Error(`bad PROXY header: ${result.reason}`));
          const rest = pending.subarray(result.length);
          if (rest.length > 0) socket.unshift(rest);
          markReadByJavaScript(socket);
          return resolve({ source: result.source, destination: result.destination });
        }
      };
      const onEnd = () => reject(new Error('the connection ended before a PROXY header'));
      socket.on('readable', onReadable);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.once('error', onEnd);
      return () => {
        socket.off('readable', onReadable);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.off('error', onEnd);
      };
    },
    { timeoutMs, onTimeout: () => new Error(`no PROXY header within ${timeoutMs / 1000} s`) },
  );
}
