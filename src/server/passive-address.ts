/**
 * The address a 227 reply advertises to a client, chosen by the client's address
 * (SFTPGo's passive IP overrides, pyftpdlib's masquerade map):
 *
 * 1. the first `passive.address_rules` entry whose networks contain the client;
 * 2. else, for a client on a loopback or private network, the control connection's local
 *    address (a LAN client must not be sent to the NAT's public side);
 * 3. else `passive.address` (vsftpd pasv_address, ProFTPD MasqueradeAddress);
 * 4. else the local address.
 *
 * A host name is resolved when needed and kept for a short while; each choice says which
 * rule made it, for the reply and the log.
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { LogThrottle } from '../observability/log-throttle.js';
import { addressMatcher, isUnroutable } from '../protocol/address.js';
import type { ConnectionInfo } from './connection-info.js';

/** `address` "local" in a rule means the control connection's local address. */
export const LOCAL_ADDRESS = 'local';

export interface PassiveAddressRule {
  networks: readonly string[];
  address: string;
}

export interface PassiveAddressChoice {
  /** The IPv4 address to advertise, or null for the control connection's local address. */
  address: string | null;
  /** Which rule chose it, in the config's words ("passive.address_rules[1] (10.0.0.0/8)"). */
  rule: string;
}

export type PassiveAddressResolver = (client: ConnectionInfo) => Promise<PassiveAddressChoice>;

/** How long a resolved host name is used before it is looked up again. */
const NAME_CACHE_MS = 30_000;

export interface PassiveAddressOptions {
  address?: string;
  rules: readonly PassiveAddressRule[];
  logger: Logger;
  /** IPv4 address of a host name (tests give their own). */
  resolveName?: (name: string) => Promise<string>;
  now?: () => number;
}

/** Loopback, private, link-local and unique-local clients: the ones a NAT's public address is wrong for. */
function onLocalNetwork(address: string): boolean {
  if (isIPv4(address)) return isUnroutable(address);
  const lower = address.toLowerCase();
  return lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

export function passiveAddressResolver(options: PassiveAddressOptions): PassiveAddressResolver {
  const resolveName = options.resolveName ?? (async (name: string) => (await lookup(name, { family: 4 })).address);
  const now = options.now ?? Date.now;
  const failures = new LogThrottle(options.logger);
  const cache = new Map<string, { address: string; until: number }>();
  const matchers = options.rules.map((rule, index) => ({
    matches: addressMatcher(rule.networks),
    address: rule.address,
    rule: `passive.address_rules[${index}] (${rule.networks.join(', ')})`,
  }));

  /** An IP as it is; a host name resolved (cached); null when it does not resolve (logged once per interval). */
  async function addressOf(text: string, rule: string): Promise<string | null> {
    if (text === LOCAL_ADDRESS) return null;
    if (isIP(text) === 4) return text;
    const cached = cache.get(text);
    if (cached && cached.until > now()) return cached.address;
    try {
      const address = await resolveName(text);
      cache.set(text, { address, until: now() + NAME_CACHE_MS });
      return address;
    } catch (error) {
      failures.warn(rule, { err: (error as Error).message, host: text, rule }, 'cannot resolve the passive address; advertising the local address');
      return null;
    }
  }

  return async (client) => {
    const remote = client.remoteAddress;
    const matched = matchers.find((matcher) => matcher.matches(remote));
    if (matched) return { address: await addressOf(matched.address, matched.rule), rule: matched.rule };
    if (onLocalNetwork(remote)) return { address: null, rule: 'the local address (the client is on a local network)' };
    if (options.address) return { address: await addressOf(options.address, 'passive.address'), rule: 'passive.address' };
    return { address: null, rule: 'the local address' };
  };
}
