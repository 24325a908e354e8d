/**
 * Data-connection address codecs: PORT/PASV "h1,h2,h3,h4,p1,p2" (RFC 959) and
 * EPRT/EPSV "|af|addr|port|" (RFC 2428), plus address-family helpers.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** "192,168,150,90,195,149" for 192.168.150.90 port 50069 (= 195*256 + 149). */
export function encodeHostPort(ipv4: string, port: number): string {
  const octets = ipv4.split('.');
  return [...octets, Math.floor(port / 256), port % 256].join(',');
}

const BYTE = /^\d{1,3}$/;

/** Parses a PORT argument; null when it is not six numbers 0-255 or the port is 0. */
export function parseHostPort(arg: string): HostPort | null {
  const parts = arg.trim().split(',');
  if (parts.length !== 6 || !parts.every((p) => BYTE.test(p.trim()))) return null;
  const nums = parts.map((p) => Number(p.trim()));
  if (nums.some((n) => n > 255)) return null;
  const port = nums[4]! * 256 + nums[5]!;
  if (port === 0) return null;
  return { host: nums.slice(0, 4).join('.'), port };
}

export type EprtResult = (HostPort & { family: 4 | 6 }) | { error: 'unsupported-family' } | null;

/**
 * Parses an EPRT argument "<d><af><d><addr><d><port><d>", where <d> is any printable
 * ASCII character (usually "|"). Returns { error } for an address family other than
 * 1 (IPv4) or 2 (IPv6), which needs a 522 reply, and null for a malformed argument.
 */
export function parseEprt(arg: string): EprtResult {
  const delimiter = arg.charAt(0);
  const code = delimiter.charCodeAt(0);
  if (!(code >= 33 && code <= 126)) return null;
  const fields = arg.split(delimiter);
  // "", af, addr, port, "" -- exactly five fields with empty ends.
  if (fields.length !== 5 || fields[0] !== '' || fields[4] !== '') return null;
  const [, af, host, portText] = fields as [string, string, string, string, string];
  if (!/^\d+$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  if (af === '1') return isIPv4(host) ? { family: 4, host, port } : null;
  if (af === '2') return isIPv6(host) ? { family: 6, host, port } : null;
  if (/^\d+$/.test(af)) return { error: 'unsupported-family' };
  return null;
}

/** The 229 reply text's port part: "(|||50069|)". */
export function formatEpsvPort(port: number): string {
  return `(|||${port}|)`;
}

/** Formats an EPRT argument (what a client sends): "|1|127.0.0.1|50069|". */
export function encodeEprt(host: string, port: number): string {
  return `|${isIPv6(host) ? 2 : 1}|${host}|${port}|`;
}

/** Parses the "(h1,h2,h3,h4,p1,p2)" inside a 227 reply's text. */
export function parsePasvReply(text: string): HostPort | null {
  const match = /(\d{1,3},\d{1,3},\d{1,3},\d{1,3},\d{1,3},\d{1,3})/.exec(text);
  return match ? parseHostPort(match[1]!) : null;
}

/** Parses the port inside a 229 reply's text "(|||port|)". */
export function parseEpsvReply(text: string): number | null {
  const match = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * Canonical form of a socket address: IPv4-mapped IPv6 ("::ffff:1.2.3.4", seen on
 * dual-stack listeners) becomes plain IPv4, IPv6 is lower-cased. Lets addresses from
 * different sockets be compared for equality.
 */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1]!;
  const zone = lower.indexOf('%');
  return zone === -1 ? lower : lower.slice(0, zone);
}

/**
 * The key under which per-client limits (defender, connection rate) count an address:
 * an IPv4 address is its own group, an IPv6 address counts as its /64
 * ("2001:db8:1:2::/64"), because one subscriber usually gets a whole /64 and can
 * rotate through it at will. IPv4-mapped IPv6 is IPv4. Anything else is returned
 * canonicalised.
 */
export function addressGroup(address: string): string {
  const canonical = canonicalAddress(address);
  if (!isIPv6(canonical)) return canonical;
  const prefix = ipv6Groups(canonical).slice(0, 4).map((group) => group.toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address ("::" expanded, a dotted IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return parse(text);
  const head = parse(text.slice(0, gap));
  const tail = parse(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** True when two socket addresses name the same host. */
export function sameAddress(a: string, b: string): boolean {
  return canonicalAddress(a) === canonicalAddress(b);
}

/** The IPv4 form of an address, or null for a real IPv6 address. */
export function asIPv4(address: string): string | null {
  const canonical = canonicalAddress(address);
  return isIPv4(canonical) ? canonical : null;
}

/** Parses "MIN-MAX" (or a single port) into an inclusive range; null when invalid. */
export function parsePortRange(text: string): { min: number; max: number } | null {
  const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text);
  if (!match) return null;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 1 || max > 65535 || min > max) return null;
  return { min, max };
}

/**
 * "HOST:PORT" for a listener: "127.0.0.1:9464", "[::1]:9464" (IPv6 in brackets),
 * "localhost:9464"; port 0 lets the OS pick. Null when it is not that.
 */
export function parseListenAddress(text: string): HostPort | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return null;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65535 || (match[1] !== undefined && !isIPv6(host))) return null;
  if (match[2] !== undefined && /^[\d.]+$/.test(host) && !isIPv4(host)) return null;
  return { host, port };
}

/** "127.0.0.1:9464", "[::1]:9464": what parseListenAddress reads. */
export function formatListenAddress({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface AddressRange {
  /** Canonical network address (IPv4-mapped IPv6 becomes IPv4). */
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Prefix length; 32 or 128 for a single address. */
  prefix: number;
}

/**
 * An address ("192.0.2.7", "::1") or a CIDR range ("192.0.2.0/24", "2001:db8::/32"), or
 * null when it is neither. IPv4-mapped IPv6 ("::ffff:192.0.2.7") is read as IPv4, as
 * the server sees it.
 */
export function parseAddressRange(text: string): AddressRange | null {
  const slash = text.indexOf('/');
  const address = canonicalAddress((slash === -1 ? text : text.slice(0, slash)).trim());
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
  if (family === null) return null;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { address, family, prefix: max };
  const prefixText = text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { address, family, prefix } : null;
}

/**
 * A test for "is this address in one of these addresses or CIDR ranges" (config lists:
 * defender.allow, proxy_protocol.trusted, passive.address_rules networks), built once.
 * Entries that do not parse are left out (the config schema refuses them first);
 * IPv4-mapped IPv6 and zone ids are matched as their plain address.
 */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseAddressRange(entry);
    if (range) list.addSubnet(range.address, range.prefix, range.family);
  }
  return (address) => {
    const canonical = canonicalAddress(address);
    return list.check(canonical, canonical.includes(':') ? 'ipv6' : 'ipv4');
  };
}

/** Private, loopback, link-local and unspecified IPv4 ranges: not reachable across the Internet. */
export function isUnroutable(ipv4: string): boolean {
  const [a = 0, b = 0] = ipv4.split('.').map(Number);
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** "FTP.Example.com." and "ftp.example.com" are one name; "[2001:db8::1]" is "2001:db8::1". */
export function normalizeHostName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}
