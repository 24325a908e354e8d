/** `ferry serve`: builds the server from config + flags and runs it until a signal. */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { effectiveTlsMode, type FerryConfig } from '../config/schema.js';
import { METRICS_PATH } from '../observability/admin-server.js';
import { createLogger } from '../observability/logger.js';
import { formatListenAddress } from '../protocol/address.js';
import { checkRunAs, dropPrivileges, resolveRunAs, type RunAsAccount } from '../server/privileges.js';
import { FtpServer } from '../server/server.js';
import { checkServerConfig, type Finding } from '../server/startup-checks.js';
import { startTempSweeper } from '../storage/temp-sweeper.js';
import { reloadConfig } from './config-reload.js';
import { buildSites } from './serve-sites.js';
import { GENERATED_USER, SiteUserSource, userHomes } from './site-users.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  root?: string;
  passivePorts?: string;
  masquerade?: string;
  users?: string;
  anonymous?: boolean;
  logFormat?: string;
  logLevel?: string;
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
  implicitPort?: string;
  adminListen?: string;
  /** Print the start-up checks and exit (status 2 when one is an error). */
  check?: boolean;
  /** Start even when passive.address names a host that does not resolve. */
  allowUnresolvedPassiveAddress?: boolean;
}

function numberOrText(value: string | undefined): number | string | undefined {
  return value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : value;
}

/** Flags as a config tree, so the schema checks them exactly like file values. */
function flagsToConfig(flags: ServeFlags): Record<string, unknown> {
  return {
    host: flags.host,
    port: numberOrText(flags.port),
    root: flags.root === undefined ? undefined : resolve(flags.root),
    users_file: flags.users === undefined ? undefined : resolve(flags.users),
    anonymous: flags.anonymous ? { enabled: true } : undefined,
    passive: { ports: flags.passivePorts, address: flags.masquerade },
    log: { format: flags.logFormat, level: flags.logLevel },
    admin: { listen: flags.adminListen },
    tls: {
      mode: flags.tls,
      cert: flags.tlsCert === undefined ? undefined : resolve(flags.tlsCert),
      key: flags.tlsKey === undefined ? undefined : resolve(flags.tlsKey),
      implicit_port: numberOrText(flags.implicitPort),
    },
  };
}

const LEVEL_LABELS: Record<Finding['level'], string> = { ok: 'ok   ', warn: 'warn ', error: 'error' };

/** `ferry serve --check`: one line per check, then a count; exit 2 on an error. */
function printChecks(findings: Finding[], source: string): void {
  const width = Math.max(...findings.map((finding) => finding.key.length));
  const lines = [`Ferry start-up checks (${source})`, ...findings.map((f) => `  ${LEVEL_LABELS[f.level]}  ${f.key.padEnd(width)}  ${f.message}`)];
  const count = (level: Finding['level']) => findings.filter((finding) => finding.level === level).length;
  lines.push(`${count('error')} error(s), ${count('warn')} warning(s)`);
  process.stdout.write(lines.join('\n') + '\n');
  process.exitCode = count('error') > 0 ? CONFIG_ERROR_EXIT_CODE : 0;
}

/** Warnings are logged; an error stops the start (a config error: exit 2, naming the key). */
function applyChecks(findings: Finding[], logger: Logger, flags: ServeFlags): void {
  for (const finding of findings) {
    const tolerated = finding.level === 'error' && finding.key.endsWith('passive.address') && flags.allowUnresolvedPassiveAddress;
    if (finding.level === 'error' && !tolerated) throw new ConfigError(`${finding.key}: ${finding.message}`, finding.key);
    if (finding.level !== 'ok') logger.warn({ key: finding.key }, finding.message);
  }
}

/**
 * What an admin hits after run_as, said once at start: folders the account cannot write
 * (Ferry made a missing root as root), and whether active mode still comes from port 20.
 */
function warnAfterRunAs(logger: Logger, account: RunAsAccount, config: FerryConfig, keptPort20: boolean, localRoots: readonly string[]): void {
  for (const root of localRoots) {
    try {
      accessSync(root, constants.W_OK);
    } catch {
      logger.warn({ key: 'run_as', root }, `${account.user} cannot write ${root}: uploads there will fail (chown ${account.user}:${account.group} ${root})`);
    }
  }
  if (!config.active.enabled || !config.active.connect_from_port_20) return;
  if (keptPort20) logger.info({ key: 'run_as' }, 'kept CAP_NET_BIND_SERVICE (and nothing else of root) for active-mode data connections from port 20');
  else logger.warn({ key: 'run_as' }, 'active-mode data connections come from an ephemeral port, not port 20: keeping CAP_NET_BIND_SERVICE needs the native addon (npm install builds it)');
}

/** The config as a reload reads it: file and flags, and the start-up checks' errors refuse it as they would refuse a start. */
async function loadChecked(flags: ServeFlags, logger: Logger): Promise<FerryConfig> {
  const config = loadConfig({ file: flags.config, overrides: flagsToConfig(flags) });
  applyChecks(await checkServerConfig(config), logger, flags);
  return config;
}

export async function serve(flags: ServeFlags): Promise<void> {
  const config: FerryConfig = loadConfig({ file: flags.config, overrides: flagsToConfig(flags) });
  // Before anything is bound: an unknown account must not leave a server running as root.
  const runAs = config.run_as === undefined ? null : resolveRunAs(config.run_as);
  if (runAs) checkRunAs(runAs);
  const findings = await checkServerConfig(config);
  if (flags.check) return printChecks(findings, flags.config ? `config ${flags.config}` : 'embedded defaults and flags');
  const logger = createLogger({ format: config.log.format, level: config.log.level });
  applyChecks(findings, logger, flags);
  const users = new SiteUserSource(logger);
  let served = await buildSites(config, users, logger);
  const { main, named, sites } = served;
  // Before listening: temp files of a crashed run go before any new upload starts.
  const sweeper = await startTempSweeper({
    roots: () =>
      served.every
        .filter((site) => site.config.storage.type === 'local')
        .flatMap((site) => [site.users.root, ...(site.users.anonymousRoot ? [site.users.anonymousRoot] : []), ...userHomes(site.config.users_file)]),
    maxAgeMs: 2 * config.timeouts.data_idle * 1000,
    logger,
  });
  const server = new FtpServer({ config, authenticator: main.authenticator, logger, sites, ...main.storage });
  const bound = await server.listen();
  // Every listener is bound and the certificates, users files and log files are open: root is no longer needed.
  if (runAs) {
    const keptPort20 = dropPrivileges(runAs, { keepBindService: config.active.enabled && config.active.connect_from_port_20 });
    warnAfterRunAs(logger, runAs, config, keptPort20, served.every.filter((site) => site.config.storage.type === 'local').map((site) => site.users.root));
  }
  // One write, so a reader that sees the ready line also sees how to log in.
  const lines = [`Ferry FTP server ready on ${formatListenAddress({ host: bound.address, port: bound.port })} (root ${main.storage.describe(main.root)})`];
  const tlsMode = effectiveTlsMode(config);
  if (tlsMode !== 'off') {
    lines.push(`  FTPS: explicit AUTH TLS on port ${bound.port} (tls mode "${tlsMode}")${bound.implicitPort !== null ? `, implicit TLS on port ${bound.implicitPort}` : ''}`);
  } else {
    lines.push('  TLS is off: passwords and files travel in clear text (see --tls-cert/--tls-key)');
  }
  const generatedPassword = users.generatedPassword;
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
  // Before the ready line: whoever reads it may signal at once (a test, systemd's stop).
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    sweeper.stop();
    logger.info({ signal, graceSeconds: config.shutdown_grace }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  // SIGHUP: the config file again (kept as it runs when it is broken), the certificates
  // (renewed in place), the log files (after logrotate). One reload at a time.
  let reloading: Promise<void> = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      const reloaded = await reloadConfig({ load: () => loadChecked(flags, logger), build: (next) => buildSites(next, users, logger), server, logger, file: flags.config });
      if (reloaded) served = reloaded;
      try {
        for (const certificate of server.reloadTls()) logger.info(certificate, 'TLS certificate reloaded');
      } catch (error) {
        logger.error({ err: (error as Error).message }, 'TLS certificate reload failed; keeping the previous one');
      }
      await server.reopenLogs();
    });
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(lines.join('\n') + '\n');
}
