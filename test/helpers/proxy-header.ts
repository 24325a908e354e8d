/** PROXY protocol headers as a load balancer sends them, for tests. */
import { isIPv4 } from 'node:net';
import { PROXY_V2_SIGNATURE } from '../../src/protocol/proxy-header.js';

export interface ProxiedClient {
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
}

export function proxyV1({ source, sourcePort, destination, destinationPort }: ProxiedClient): Buffer {
  return Buffer.from(`PROXY ${isIPv4(source) ? 'TCP4' : 'TCP6'} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text ? text.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  const out = Buffer.alloc(16);
  all.forEach((group, index) => out.writeUInt16BE(parseInt(group, 16), index * 2));
  return out;
}

/** A version 2 PROXY (or, with `local`, LOCAL) header over TCP, with `tlv` bytes appended. */
export function proxyV2(client: ProxiedClient, options: { local?: boolean; tlv?: Buffer } = {}): Buffer {
  const ipv4 = isIPv4(client.source);
  const addresses = ipv4
    ? Buffer.concat([Buffer.from(client.source.split('.').map(Number)), Buffer.from(client.destination.split('.').map(Number))])
    : Buffer.concat([ipv6Bytes(client.source), ipv6Bytes(client.destination)]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(client.sourcePort, 0);
  ports.writeUInt16BE(client.destinationPort, 2);
  const body = Buffer.concat([addresses, ports, options.tlv ?? Buffer.alloc(0)]);
  const fixed = Buffer.alloc(4);
  fixed[0] = options.local ? 0x20 : 0x21;
  fixed[1] = ipv4 ? 0x11 : 0x21;
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, fixed, body]);
}
