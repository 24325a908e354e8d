/**
 * Who is on the other end of a control connection and how it is protected: the one
 * source of addresses for limits, bans, logs, the passive address rule, the bounce check
 * and the passive-theft check. The addresses come from the socket, or from a trusted
 * proxy's PROXY header (proxied()), so nothing else reads `socket.remoteAddress`.
 */
import type { Socket } from 'node:net';
import { canonicalAddress } from '../protocol/address.js';

export interface Endpoint {
  address: string;
  port: number;
}

export class ConnectionInfo {
  private tlsProtocol: string | null = null;
  private tlsServerName: string | null = null;
  /** The address the client connected to: the socket's local one, or the proxy's from its header. */
  readonly serverAddress: string;

  constructor(
    /** This machine's end of the socket (passive listeners bind here). Canonical form: IPv4-mapped IPv6 as plain IPv4, no zone. */
    readonly localAddress: string,
    readonly localPort: number,
    /** The client: the socket's peer, or the one a trusted PROXY header names. */
    readonly remoteAddress: string,
    readonly remotePort: number,
    /** Accepted on the implicit FTPS listener (TLS before the greeting). */
    readonly implicitTls: boolean,
    serverAddress?: string,
  ) {
    this.serverAddress = serverAddress ?? localAddress;
  }

  static fromSocket(socket: Socket, implicitTls: boolean): ConnectionInfo {
    return new ConnectionInfo(canonicalAddress(socket.localAddress ?? ''), socket.localPort ?? 0, canonicalAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0, implicitTls);
  }

  /** A connection through a trusted proxy: the client and the address it reached come from the PROXY header. */
  static proxied(socket: Socket, implicitTls: boolean, client: Endpoint, reached: Endpoint): ConnectionInfo {
    return new ConnectionInfo(canonicalAddress(socket.localAddress ?? ''), socket.localPort ?? 0, client.address, client.port, implicitTls, reached.address);
  }

  /** "203.0.113.7:51234" or "[2001:db8::1]:51234", for logs. */
  get remoteLabel(): string {
    return this.remoteAddress.includes(':') ? `[${this.remoteAddress}]:${this.remotePort}` : `${this.remoteAddress}:${this.remotePort}`;
  }

  /** The control connection is TLS-protected (AUTH TLS, or the implicit listener). */
  get secure(): boolean {
    return this.tlsProtocol !== null;
  }

  /** The host name the client asked for in its TLS handshake (SNI), lower-cased; null without one. */
  get serverName(): string | null {
    return this.tlsServerName;
  }

  /** The TLS handshake on the control connection has finished. */
  secured(protocol: string, serverName: string | null): void {
    this.tlsProtocol = protocol;
    this.tlsServerName = serverName ? serverName.toLowerCase() : null;
  }
}
