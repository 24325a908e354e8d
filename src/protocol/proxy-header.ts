/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): what a load
 * balancer in TCP mode sends first on each connection, so the server learns the client's
 * real address. Pure parsing; reading it off a socket is server/proxy-protocol.ts.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from './address.js';

/** "\r\n\r\n\0\r\nQUIT\n": version 2's signature (a server that does not expect it reads QUIT). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest version 1 line, CRLF included (the spec's 107 bytes). */
const V1_MAX_BYTES = 107;
const V2_HEADER_BYTES = 16;
/** Addresses and TLVs after the 16 fixed bytes; more than this is not a header a proxy sends. */
const V2_MAX_PAYLOAD = 4096;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export type ProxyHeaderResult =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | {
      kind: 'header';
      version: 1 | 2;
      /** Bytes the header took; what follows belongs to the connection. */
      length: number;
      /**
       * The client and the address it connected to; null for a LOCAL header (the proxy's own
       * health check) or an UNKNOWN/unspecified family: the socket's addresses stand.
       */
      source: ProxyEndpoint | null;
      destination: ProxyEndpoint | null;
    };

/** `bytes` begin with `expected`, or with as much of it as they hold (`partial`). */
function startsWith(bytes: Buffer, expected: Buffer, partial: boolean): boolean {
  if (bytes.length < (partial ? 1 : expected.length)) return false;
  const length = Math.min(bytes.length, expected.length);
  return bytes.subarray(0, length).equals(expected.subarray(0, length));
}

/** Whether `bytes` begin with a whole PROXY signature ("PROXY " or version 2's twelve bytes). */
export function looksLikeProxyHeader(bytes: Buffer): boolean {
  return startsWith(bytes, V1_PREFIX, false) || startsWith(bytes, PROXY_V2_SIGNATURE, false);
}

export function parseProxyHeader(bytes: Buffer): ProxyHeaderResult {
  if (startsWith(bytes, V1_PREFIX, true)) return bytes.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(bytes);
  if (startsWith(bytes, PROXY_V2_SIGNATURE, true)) return parseV2(bytes);
  return { kind: 'invalid', reason: 'no PROXY protocol signature' };
}

function port(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const value = Number(text);
  return value <= 65535 ? value : null;
}

function parseV1(bytes: Buffer): ProxyHeaderResult {
  const end = bytes.subarray(0, V1_MAX_BYTES).indexOf('\r\n');
  if (end === -1) return bytes.length >= V1_MAX_BYTES ? { kind: 'invalid', reason: 'version 1 line longer than 107 bytes' } : { kind: 'incomplete' };
  const line = bytes.subarray(0, end).toString('latin1');
  const length = end + 2;
  const [, family, ...fields] = line.split(' ');
  if (family === 'UNKNOWN') return { kind: 'header', version: 1, length, source: null, destination: null };
  if ((family !== 'TCP4' && family !== 'TCP6') || fields.length !== 4) return { kind: 'invalid', reason: `malformed version 1 line "${line.slice(0, 60)}"` };
  const [sourceAddress = '', destinationAddress = '', sourcePort = '', destinationPort = ''] = fields;
  const valid = family === 'TCP4' ? isIPv4 : isIPv6;
  const ports = [port(sourcePort), port(destinationPort)];
  if (!valid(sourceAddress) || !valid(destinationAddress) || ports.includes(null)) return { kind: 'invalid', reason: `bad addresses in version 1 line "${line.slice(0, 60)}"` };
  return {
    kind: 'header',
    version: 1,
    length,
    source: { address: canonicalAddress(sourceAddress), port: ports[0]! },
    destination: { address: canonicalAddress(destinationAddress), port: ports[1]! },
  };
}

/** Sixteen bytes as an IPv6 address in its short form ("2001:db8::7"), as sockets report it. */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The URL parser writes IPv6 hosts in the RFC 5952 form.
  return canonicalAddress(new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1));
}

function parseV2(bytes: Buffer): ProxyHeaderResult {
  if (bytes.length < V2_HEADER_BYTES) return { kind: 'incomplete' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: `version 2 signature with version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: `unknown version 2 command ${command}` };
  const familyProtocol = bytes[13]!;
  const payload = bytes.readUInt16BE(14);
  if (payload > V2_MAX_PAYLOAD) return { kind: 'invalid', reason: `version 2 header of ${payload} bytes` };
  const length = V2_HEADER_BYTES + payload;
  if (bytes.length < length) return { kind: 'incomplete' };
  const local = { kind: 'header', version: 2, length, source: null, destination: null } as const;
  // LOCAL: the proxy speaks for itself (a health check); the socket's addresses stand.
  if (command === 0) return local;
  const family = familyProtocol >> 4;
  const protocol = familyProtocol & 0x0f;
  if (family === 0) return local;
  if (protocol !== 1) return { kind: 'invalid', reason: 'version 2 header for a transport other than TCP' };
  const body = bytes.subarray(V2_HEADER_BYTES, length);
  if (family === 1 && payload >= 12) {
    const ipv4 = (offset: number) => [...body.subarray(offset, offset + 4)].join('.');
    return { ...local, source: { address: ipv4(0), port: body.readUInt16BE(8) }, destination: { address: ipv4(4), port: body.readUInt16BE(10) } };
  }
  if (family === 2 && payload >= 36) {
    return {
      ...local,
      source: { address: ipv6Text(body.subarray(0, 16)), port: body.readUInt16BE(32) },
      destination: { address: ipv6Text(body.subarray(16, 32)), port: body.readUInt16BE(34) },
    };
  }
  return { kind: 'invalid', reason: `version 2 header with address family ${family} (${payload} bytes)` };
}
