/** What `ferry serve` prints once it listens. */
import { effectiveTlsMode, type FerryConfig } from '../config/schema.js';
import { METRICS_PATH } from '../observability/admin-server.js';
import { formatListenAddress } from '../protocol/address.js';
import type { BoundAddresses } from '../server/server.js';
import type { ServedSites } from './serve-sites.js';
import { GENERATED_USER } from './site-users.js';

/** The ready line and what follows it: how to connect, log in and watch; one write, so a reader that sees the ready line also sees how to log in. */
export function readyLines(config: FerryConfig, bound: BoundAddresses, served: ServedSites, generatedPassword: string | null): string[] {
  const { main, named } = served;
  const lines = [`Ferry FTP server ready on ${formatListenAddress({ host: bound.address, port: bound.port })} (root ${main.storage.describe(main.root)})`];
  const tlsMode = effectiveTlsMode(config);
  if (tlsMode !== 'off') {
    lines.push(`  FTPS: explicit AUTH TLS on port ${bound.port} (tls mode "${tlsMode}")${bound.implicitPort !== null ? `, implicit TLS on port ${bound.implicitPort}` : ''}`);
  } else {
    lines.push('  TLS is off: passwords and files travel in clear text (see --tls-cert/--tls-key)');
  }
  if (generatedPassword) {
    lines.push(`  login: user "${GENERATED_USER}", password "${generatedPassword}" (generated for this run; add permanent users with \`ferry user add\`)`);
  }
  if (main.anonymousRoot) lines.push(`  anonymous read-only login: user "anonymous", any password (root ${main.storage.describe(main.anonymousRoot)})`);
  for (const { definition, users: siteUsers } of named) lines.push(`  site "${definition.name}": ${definition.hosts.join(', ')} (root ${siteUsers.storage.describe(siteUsers.root)}), chosen by HOST or the TLS server name`);
  if (bound.admin) {
    lines.push(`  metrics: http://${formatListenAddress(bound.admin)}${METRICS_PATH}`);
    const { token, user } = config.admin;
    if (token || user) lines.push(`  web admin: http://${formatListenAddress(bound.admin)}/ (log in with ${user ? `user "${user}"` : 'the admin.token'})`);
  }
  const range = config.passive.ports;
  lines.push(`  passive ports ${range ? `${range.min}-${range.max}` : 'any free port'}${config.passive.address ? `, advertised address ${config.passive.address}` : ''}`);
  return lines;
}
