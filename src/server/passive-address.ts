/**
 * The address a 227 reply advertises to a client: the configured masquerade address
 * (vsftpd pasv_address, ProFTPD MasqueradeAddress), resolved on each PASV when it is a
 * host name, else null (the control connection's local address). It takes the client's
 * connection so that per-network rules can choose by the client's address.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { LogThrottle } from '../observability/log-throttle.js';
import type { ConnectionInfo } from './connection-info.js';

export type PassiveAddressResolver = (client: ConnectionInfo) => Promise<string | null>;

export function masqueradeResolver(configured: string | undefined, logger: Logger): PassiveAddressResolver {
  if (!configured) return async () => null;
  if (isIP(configured) === 4) return async () => configured;
  // Once per interval, not on every PASV (the admin allowed the start with this name).
  const failures = new LogThrottle(logger);
  return async () => {
    try {
      return (await lookup(configured, { family: 4 })).address;
    } catch (error) {
      failures.warn('passive.address', { err: (error as Error).message, host: configured }, 'cannot resolve passive.address; advertising the local address');
      return null;
    }
  };
}
