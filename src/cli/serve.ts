/** `ferry serve`: builds the server from config + flags and runs it until a signal. */
import cluster from 'node:cluster';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { FerryConfig } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { isFerryMessage, type PrimaryMessage } from '../server/workers/messages.js';
import { checkRunAs, dropPrivileges, resolveRunAs, type RunAsAccount } from '../server/privileges.js';
import { FtpServer, type WorkerSharing } from '../server/server.js';
import { PrimaryAdminLink, PrimaryBanLedger, PrimaryGate, PrimaryQuestions, PrimarySessionCount, sendToPrimary } from '../server/workers/primary-link.js';
import { WORKER_COUNT_ENV, WORKER_INDEX_ENV } from '../server/workers/primary.js';
import { checkWorkersConfig, workerConfig, workerCount } from '../server/workers/worker-slices.js';
import { checkServerConfig, type Finding } from '../server/startup-checks.js';
import { startTempSweeper } from '../storage/temp-sweeper.js';
import { reloadConfig } from './config-reload.js';
import { GENERATED_PASSWORD_ENV, servePrimary } from './serve-primary.js';
import { readyLines } from './serve-ready.js';
import { handleSignals } from './serve-signals.js';
import { buildSites, type ServedSites } from './serve-sites.js';
import { SiteUserSource, userHomes } from './site-users.js';

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

/** Warnings are logged (`warn` false: the primary logged them already); an error stops the start (a config error: exit 2, naming the key). */
function applyChecks(findings: Finding[], logger: Logger, flags: ServeFlags, warn = true): void {
  for (const finding of findings) {
    const tolerated = finding.level === 'error' && finding.key.endsWith('passive.address') && flags.allowUnresolvedPassiveAddress;
    if (finding.level === 'error' && !tolerated) throw new ConfigError(`${finding.key}: ${finding.message}`, finding.key);
    if (finding.level !== 'ok' && warn) logger.warn({ key: finding.key }, finding.message);
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
async function loadChecked(flags: ServeFlags, logger: Logger, role: Role): Promise<FerryConfig> {
  const config = loadConfig({ file: flags.config, overrides: flagsToConfig(flags) });
  checkWorkersConfig(config);
  applyChecks(await checkServerConfig(config), logger, flags);
  return roleConfig(config, role);
}

/** What this process is: the only one, the primary of several workers, or worker `index` of `count`. */
type Role = { kind: 'single' } | { kind: 'primary'; count: number } | { kind: 'worker'; index: number; count: number };

function roleOf(config: FerryConfig): Role {
  const count = workerCount(config);
  const index = process.env[WORKER_INDEX_ENV];
  // A worker's slice follows the primary's count (a replacement must not slice by an edited `workers`).
  if (cluster.isWorker && index !== undefined) return { kind: 'worker', index: Number(index), count: Number(process.env[WORKER_COUNT_ENV] ?? count) };
  return count > 1 ? { kind: 'primary', count } : { kind: 'single' };
}

/** A worker serves its slice of the passive ports, and leaves /metrics to the primary. */
function roleConfig(config: FerryConfig, role: Role): FerryConfig {
  return role.kind === 'worker' ? workerConfig(config, role.index, role.count) : config;
}

export async function serve(flags: ServeFlags): Promise<void> {
  const loaded: FerryConfig = loadConfig({ file: flags.config, overrides: flagsToConfig(flags) });
  checkWorkersConfig(loaded);
  const role = roleOf(loaded);
  const config = roleConfig(loaded, role);
  // Before anything is bound: an unknown account must not leave a server running as root.
  const runAs = config.run_as === undefined ? null : resolveRunAs(config.run_as);
  if (runAs) checkRunAs(runAs);
  const findings = await checkServerConfig(config);
  if (flags.check) return printChecks(findings, flags.config ? `config ${flags.config}` : 'embedded defaults and flags');
  const rootLogger = createLogger({ format: config.log.format, level: config.log.level });
  const logger = role.kind === 'worker' ? rootLogger.child({ worker: role.index }) : rootLogger;
  applyChecks(findings, logger, flags, role.kind !== 'worker');
  const users = new SiteUserSource(logger, role.kind === 'worker' ? process.env[GENERATED_PASSWORD_ENV] : undefined);
  let served = await buildSites(config, users, logger);
  const { main, sites } = served;
  // Before listening: temp files of a crashed run go before any new upload starts (once: not in every worker).
  const sweeper = role.kind === 'worker'
    ? null
    : await startTempSweeper({
      roots: () =>
        served.every
          .filter((site) => site.config.storage.type === 'local')
          .flatMap((site) => [site.users.root, ...(site.users.anonymousRoot ? [site.users.anonymousRoot] : []), ...userHomes(site.config.users_file)]),
      maxAgeMs: 2 * config.timeouts.data_idle * 1000,
      logger,
    });
  // A reload's sites are the ones served from now on; the sweeper walks the roots it added at once.
  const adoptSites = (next: ServedSites) => {
    served = next;
    void sweeper?.sweepNow();
  };
  if (role.kind === 'primary') {
    // The primary serves no FTP, but it builds a reload's sites: that checks the new users files, and the sweeper needs their roots.
    const reloadSites = async () => {
      const next = await loadChecked(flags, logger, role);
      adoptSites(await buildSites(next, users, logger));
      return next;
    };
    return servePrimary({ count: role.count, config, logger, served, users, sweeper, reload: reloadSites, file: flags.config });
  }
  const questions = role.kind === 'worker' ? new PrimaryQuestions() : null;
  const worker: WorkerSharing | undefined = questions ? { gate: new PrimaryGate(questions), bans: new PrimaryBanLedger(), userSessions: new PrimarySessionCount(questions), metricsScraped: loaded.admin.listen !== undefined, admin: new PrimaryAdminLink() } : undefined;
  const server = new FtpServer({ config, authenticator: main.authenticator, logger, sites, ...main.storage, worker });
  const bound = await server.listen();
  // Every listener is bound and the certificates, users files and log files are open: root is no longer needed.
  if (runAs) {
    const keptPort20 = dropPrivileges(runAs, { keepBindService: config.active.enabled && config.active.connect_from_port_20 });
    if (role.kind !== 'worker' || role.index === 0) {
      warnAfterRunAs(logger, runAs, config, keptPort20, served.every.filter((site) => site.config.storage.type === 'local').map((site) => site.users.root));
    }
  }
  // SIGHUP: the config file again (kept as it runs when it is broken), the certificates
  // (renewed in place), the log files (after logrotate). One reload at a time.
  let reloading: Promise<void> = Promise.resolve();
  const reload = () =>
    (reloading = reloading.then(async () => {
      const reloaded = await reloadConfig({ load: () => loadChecked(flags, logger, role), build: (next) => buildSites(next, users, logger), server, logger, file: flags.config });
      if (reloaded) adoptSites(reloaded);
      try {
        for (const certificate of server.reloadTls()) logger.info(certificate, 'TLS certificate reloaded');
      } catch (error) {
        logger.error({ err: (error as Error).message }, 'TLS certificate reload failed; keeping the previous one');
      }
      await server.reopenLogs();
    }));
  // Before the ready line: whoever reads it may signal at once (a test, systemd's stop).
  const stop = handleSignals(logger, config, {
    stop: () => {
      sweeper?.stop();
      return server.close();
    },
    kill: () => undefined,
    reload,
  });
  if (role.kind === 'worker') {
    // The primary passes its signals on as messages; without it, nobody counts the limits: stop.
    process.on('message', (message) => {
      if (!isFerryMessage<PrimaryMessage>(message)) return;
      if (message.ferry === 'stop') stop('primary', true);
      else if (message.ferry === 'reload') void reload();
    });
    process.on('disconnect', () => stop('primary gone', true));
    sendToPrimary({ ferry: 'ready', bound: { address: bound.address, port: bound.port, implicitPort: bound.implicitPort } });
    return;
  }
  process.stdout.write(readyLines(config, bound, served, users.generatedPassword).join('\n') + '\n');
}
