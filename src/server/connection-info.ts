/**
 * Who is on the other end of a control connection and how it is protected: the one
 * source of addresses for limits, bans, logs, the passive address rule, the bounce check
 * and the passive-theft check. Today the addresses come from the socket; a trusted PROXY
 * protocol header will be the other source, so nothing else reads `socket.remoteAddress`.
 */
import type { Socket } from 'node:net';
import { canonicalAddress } from '../protocol/address.js';

export type AddressSource = 'socket' | 'proxy';

export class ConnectionInfo {
  private tlsProtocol: string | null = null;

  constructor(
    /** Canonical form: IPv4-mapped IPv6 addresses as plain IPv4, no zone. */
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
    /** Accepted on the implicit FTPS listener (TLS before the greeting). */
    readonly implicitTls: boolean,
    readonly source: AddressSource = 'socket',
  ) {}

  static fromSocket(socket: Socket, implicitTls: boolean): ConnectionInfo {
    return new ConnectionInfo(canonicalAddress(socket.localAddress ?? ''), socket.localPort ?? 0, canonicalAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0, implicitTls);
  }

  /** "203.0.113.7:51234" or "[2001:db8::1]:51234", for logs. */
  get remoteLabel(): string {
    return this.remoteAddress.includes(':') ? `[${this.remoteAddress}]:${this.remotePort}` : `${this.remoteAddress}:${this.remotePort}`;
  }

  /** The control connection is TLS-protected (AUTH TLS, or the implicit listener). */
  get secure(): boolean {
    return this.tlsProtocol !== null;
  }

  /** The negotiated TLS version ("TLSv1.3"), once secure. */
  get protocol(): string | null {
    return this.tlsProtocol;
  }

  /** The TLS handshake on the control connection has finished. */
  secured(protocol: string): void {
    this.tlsProtocol = protocol;
  }
}
