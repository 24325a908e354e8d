/**
 * What the server's log says about data connections that fail, so that an admin reading
 * it can tell a firewall from NAT from a client that went away: which mode, which
 * address and port, refused or timed out, and which setting to look at.
 */
import type { Logger } from 'pino';
import type { FerryConfig } from '../../config/schema.js';
import { FtpError } from '../../errors.js';
import { DataConnectError } from './data-connect-error.js';
import type { PassiveSilence } from './passive-listener.js';

/** "50000-50999", or "any free port" when passive.ports is "0". */
export function describePassivePorts(config: FerryConfig): string {
  const range = config.passive.ports;
  return range ? `${range.min}-${range.max}` : 'any free port';
}

/** The warning for a passive port nobody connected to: the usual sign of a blocked range or a wrong advertised address. */
export function warnPassiveSilence(logger: Logger, config: FerryConfig, silence: PassiveSilence, localAddress: string): void {
  logger.warn(
    {
      code: 'FERRY_ERR_DATA_TIMEOUT',
      reason: `nobody connected to passive port ${silence.port} in time`,
      port: silence.port,
      advertised: silence.advertised ?? localAddress,
      passivePorts: describePassivePorts(config),
      heldMs: silence.heldMs,
      why: silence.why,
      hint: 'a firewall in front of the server may drop passive.ports, or the advertised address (passive.address) is not one the client can reach',
    },
    'passive data connection never arrived',
  );
}

/** Fields for the transfer log line of a failed transfer: the code, the reason in words and, for data connections, where and how. */
export function failureFields(error: FtpError): Record<string, unknown> {
  const fields: Record<string, unknown> = { code: error.code, reason: error.message };
  if (error instanceof DataConnectError) {
    fields.dataMode = error.details.mode;
    fields.dataTarget = error.details.target;
    fields.dataFailure = error.details.failure;
  }
  return fields;
}
