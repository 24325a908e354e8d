/**
 * What a server's configuration means for clients on other networks, checked before it
 * listens: the address PASV replies will advertise (and whether NAT will make it
 * useless), a passive host name that does not resolve, a passive range too small for the
 * session limit, and active mode without bounce protection. `ferry serve` logs the
 * warnings and refuses to start on an error; `ferry serve --check` prints them all.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { effectiveTlsMode, type FerryConfig, type SiteDefinition } from '../config/schema.js';
import { isUnroutable } from '../protocol/address.js';

export interface Finding {
  level: 'ok' | 'warn' | 'error';
  /** The config key the finding is about ("passive.address"). */
  key: string;
  message: string;
}

/** The machine as the checks see it (tests give their own). */
export interface CheckEnvironment {
  interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The IPv4 address of a host name; rejects when it does not resolve. */
  resolve(host: string): Promise<string>;
}

const SYSTEM: CheckEnvironment = {
  interfaces: networkInterfaces,
  resolve: async (host) => (await dnsLookup(host, { family: 4 })).address,
};

const MASQUERADE_NAMES = 'passive.address (vsftpd pasv_address, ProFTPD MasqueradeAddress)';

/** The host's own IPv4 addresses, loopback excluded. */
function externalIPv4(env: CheckEnvironment): string[] {
  return Object.values(env.interfaces())
    .flatMap((list) => list ?? [])
    .filter((info) => info.family === 'IPv4' && !info.internal)
    .map((info) => info.address);
}

async function checkPassiveAddress(config: FerryConfig, env: CheckEnvironment): Promise<Finding> {
  const key = 'passive.address';
  const configured = config.passive.address;
  if (configured && isIP(configured) !== 0) return { level: 'ok', key, message: `PASV replies advertise ${configured}` };
  if (configured) {
    try {
      const address = await env.resolve(configured);
      return { level: 'ok', key, message: `PASV replies advertise ${configured} (now ${address}; resolved again on each PASV)` };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return {
        level: 'error',
        key,
        message: `${configured} does not resolve (${reason}): PASV replies would advertise the server's local address instead; fix the name, use an IP address, or start with --allow-unresolved-passive-address`,
      };
    }
  }
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  if (!wildcard && !isIPv4(config.host)) return { level: 'ok', key, message: 'IPv6 only: clients use EPSV, which carries no address' };
  const listening = wildcard ? externalIPv4(env) : [config.host];
  const reachable = listening.filter((address) => !isUnroutable(address));
  if (reachable.length > 0) return { level: 'ok', key, message: `PASV replies advertise the address each client connected to (${reachable.join(', ')})` };
  const shown = listening.length > 0 ? listening.join(', ') : 'loopback only';
  return {
    level: 'warn',
    key,
    message: `the server has only private or loopback IPv4 addresses (${shown}) and ${key} is not set: behind NAT, PASV replies advertise an address clients outside cannot reach; set ${MASQUERADE_NAMES} to the public address`,
  };
}

function checkPassiveRange(config: FerryConfig): Finding | null {
  const key = 'passive.ports';
  const range = config.passive.ports;
  if (!config.passive.enabled) return null;
  if (!range) return { level: 'ok', key, message: 'passive ports: any free port (a firewall in front of the server would have to allow every high port)' };
  const size = range.max - range.min + 1;
  const ports = `${range.min}-${range.max}`;
  if (config.max_clients > 0 && size < config.max_clients) {
    return {
      level: 'warn',
      key,
      message: `${size} passive ports (${ports}) for max_clients = ${config.max_clients}: when more sessions than that wait for a data connection, the rest get 425; widen the range`,
    };
  }
  return { level: 'ok', key, message: `passive ports ${ports} (${size}): the server's firewall must let them in on tcp, with the control port ${config.port}` };
}

function checkActive(config: FerryConfig): Finding | null {
  if (!config.active.enabled) return null;
  if (config.active.promiscuous) {
    return {
      level: 'warn',
      key: 'active.promiscuous',
      message: 'bounce protection is off: PORT/EPRT may make the server connect to any host and port (FTP bounce, RFC 2577); set it to false unless you need FXP',
    };
  }
  return { level: 'ok', key: 'active.promiscuous', message: 'active mode connects back only to the client\'s own address, to ports >= 1024' };
}

function checkTls(config: FerryConfig): Finding {
  const mode = effectiveTlsMode(config);
  if (mode === 'off') return { level: 'warn', key: 'tls.mode', message: 'TLS is off: passwords and files travel in clear text; set tls.cert and tls.key' };
  return { level: 'ok', key: 'tls.mode', message: `TLS "${mode}"` };
}

/** A site's own passive address (a site with the top level's adds nothing to say). */
async function checkSitePassiveAddress(site: SiteDefinition, top: FerryConfig, env: CheckEnvironment): Promise<Finding | null> {
  if (!site.config.passive.enabled || site.config.passive.address === top.passive.address) return null;
  const finding = await checkPassiveAddress(site.config, env);
  return { ...finding, key: `sites.${site.name}.${finding.key}` };
}

export async function checkServerConfig(config: FerryConfig, env: CheckEnvironment = SYSTEM): Promise<Finding[]> {
  const findings = [
    config.passive.enabled ? await checkPassiveAddress(config, env) : null,
    ...(await Promise.all(config.sites.map((site) => checkSitePassiveAddress(site, config, env)))),
    checkPassiveRange(config),
    checkActive(config),
    checkTls(config),
  ];
  return findings.filter((finding): finding is Finding => finding !== null);
}
