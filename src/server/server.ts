/**
 * FtpServer: the control-connection listener, connection limits and lifecycle
 * (including graceful shutdown: stop accepting, 421 to idle sessions, let running
 * transfers finish within a grace period).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { ERRORS, type ErrorCode } from '../errors.js';
import { AdminServer } from '../observability/admin-server.js';
import type { AdminSources } from '../observability/admin/sources.js';
import { LocalAdminData, type AdminData } from '../observability/admin/views.js';
import { FerryMetrics } from '../observability/metrics.js';
import type { SessionSummary } from '../observability/events.js';
import { LogThrottle } from '../observability/log-throttle.js';
import { TransferLog } from '../observability/transfer-log.js';
import { HookDispatcher } from '../observability/hooks/dispatcher.js';
import type { HostPort } from '../protocol/address.js';
import { formatReply, Reply } from '../protocol/replies.js';
import { warnIfConfinementRacy } from '../storage/jail.js';
import { ConnectionInfo } from './connection-info.js';
import type { ConnectionGate, SharedBanLedger } from './connection-gate.js';
import { PassivePortPool } from './data/port-pool.js';
import { Defender } from './defender.js';
import { UserAllowances, type SharedSessionCount } from './limits/user-allowances.js';
import { DescriptorBudget } from './descriptor-budget.js';
import { RedisAbuseLedger } from './cluster/redis-ledger.js';
import { RedisSessionRegistry } from './cluster/redis-sessions.js';
import { ProxyTrust, readProxyHeader } from './proxy-protocol.js';
import { ConnectionRateLimiter } from './rate-limiter.js';
import { Session, type ServerServices } from './session.js';
import { createSite, type Site, type SiteOptions } from './site.js';
import { configChanges, runnableConfig, type ConfigChanges } from '../config/reload-diff.js';
import type { FerryConfig } from '../config/schema.js';
import { SiteDirectory } from './site-directory.js';
import type { CertificateSummary } from './tls/tls-provider.js';
import { settledWithin } from '../util/settled-within.js';

/** How long a refused connection may take to receive its 421 before it is destroyed. */
const REFUSAL_GRACE_MS = 1000;
/** How long shutdown waits, after closing the sessions, for their cut-short transfers to publish their end. */
const TRANSFER_END_WAIT_MS = 2000;
/** How long close() waits for running hooks (their events were the session's last words). */
const HOOKS_END_WAIT_MS = 2000;

/** The server-wide settings, and the default site's authenticator and storage (as for createSite). */
export interface FtpServerOptions extends Pick<SiteOptions, 'config' | 'authenticator' | 'logger' | 'openStorage' | 'storageCapabilities'> {
  /** The default site; built from config, authenticator and openStorage when not given. */
  site?: Site;
  /** Virtual hosts ([sites.NAME]) besides the default site, chosen by HOST or the TLS server name. */
  sites?: readonly Site[];
  /** One of several worker processes (workers = N): what they count together, and their metrics go to the primary's admin listener. */
  worker?: WorkerSharing;
}

/** What a worker shares with the other workers, through the primary. */
export interface WorkerSharing {
  /** connection_rate, max_clients and max_per_ip, counted for all workers. */
  gate: ConnectionGate;
  /** Bans reached in one worker apply in all (unless [cluster] redis shares them already). */
  bans: SharedBanLedger;
  /** Each user's max_sessions, counted for all workers. */
  userSessions: SharedSessionCount;
  /** The primary serves /metrics ([admin] listen): the worker counts its own for it. */
  metricsScraped: boolean;
  /** The primary serves the web admin: it asks this worker for its sessions and bans, and to kick or unban. */
  admin: { serve(data: AdminData): void; close(): void };
}

/** What a reload hands the running server: a new config and the sites built from it. */
export type ServerReconfiguration = Pick<FtpServerOptions, 'config' | 'authenticator' | 'openStorage' | 'storageCapabilities' | 'site' | 'sites'>;

function defaultSite(options: ServerReconfiguration, logger: FtpServerOptions['logger']): Site {
  return options.site ?? createSite({ config: options.config, authenticator: options.authenticator, logger, openStorage: options.openStorage, storageCapabilities: options.storageCapabilities });
}

export interface BoundAddresses {
  address: string;
  port: number;
  /** The implicit FTPS listener's port, when it runs. */
  implicitPort: number | null;
  /** The admin listener's (`[admin] listen`: /metrics), when it runs. */
  admin: HostPort | null;
}

export class FtpServer {
  private readonly listener: Server;
  /** Implicit FTPS (TLS before the greeting), when TLS is on and tls.implicit is true. */
  private readonly implicitListener: Server | null;
  private readonly sessions = new Set<Session>();
  /** Every session this server ever admitted: its transfer log takes their transfers only (a session's last one may end after it closed). */
  private readonly ownSessions = new WeakSet<SessionSummary>();
  /** [log] transfers, opened by listen(). */
  private transferLog: TransferLog | null = null;
  /** [hooks], started by listen() when actions are configured. */
  private hooks: HookDispatcher | null = null;
  private readonly perAddress = new Map<string, number>();
  private readonly services: ServerServices;
  /** Bans shared with the other nodes ([cluster] redis), or with the other workers. */
  private readonly ledger: SharedBanLedger | null;
  /** Per-user session counts shared with the other nodes ([cluster] redis), when configured. */
  private readonly clusterSessions: RedisSessionRegistry | null;
  private readonly descriptors: DescriptorBudget;
  private connectionRate: ConnectionRateLimiter;
  /** Refused connections: logged once per interval, not per connection. */
  private readonly refusalLog: LogThrottle;
  /** Metrics (and the web admin, with an admin login set) over HTTP, while listening with `[admin] listen` set. */
  private admin: AdminServer | null = null;
  /** A worker's metrics, collected by the primary's admin listener. */
  private workerMetrics: FerryMetrics | null = null;
  private shuttingDown = false;

  /** The settings in force: the constructor's, then each reconfigure()'s (restart-only keys keep their first values). */
  private config: FerryConfig;

  constructor(private readonly options: FtpServerOptions) {
    const { config, logger } = options;
    this.config = config;
    const { limits, defender } = config;
    this.ledger = config.cluster.redis && defender.enabled
      ? new RedisAbuseLedger({ url: config.cluster.redis, threshold: defender.threshold, observationMs: defender.observation_time * 1000, banMs: defender.ban_time * 1000, logger })
      : (options.worker?.bans ?? null);
    this.clusterSessions = config.cluster.redis ? new RedisSessionRegistry({ url: config.cluster.redis, logger }) : null;
    this.descriptors = new DescriptorBudget({ reserve: limits.reserved_descriptors, logger });
    this.connectionRate = new ConnectionRateLimiter({ rate: limits.connection_rate, burst: limits.connection_burst });
    this.refusalLog = new LogThrottle(logger);
    const site = defaultSite(options, logger);
    this.services = {
      logger,
      sites: new SiteDirectory(site, options.sites),
      proxyTrust: new ProxyTrust(config.proxy_protocol.trusted),
      portPool: new PassivePortPool(config.passive.ports),
      isShuttingDown: () => this.shuttingDown,
      allowances: new UserAllowances({ workers: options.worker?.userSessions, cluster: this.clusterSessions }),
      defender: new Defender({
        enabled: defender.enabled,
        threshold: defender.threshold,
        observationMs: defender.observation_time * 1000,
        banMs: defender.ban_time * 1000,
        allow: defender.allow,
        logger,
        shared: this.ledger ?? undefined,
      }),
    };
    // A worker's connection waits for the primary's answer before its session reads: its
    // socket must not read meanwhile, or a ClientHello read early is lost to implicit TLS.
    const listening = { pauseOnConnect: options.worker !== undefined };
    this.listener = createServer(listening, (socket) => this.accept(socket, false));
    this.implicitListener = site.tls && config.tls.implicit ? createServer(listening, (socket) => this.accept(socket, true)) : null;
  }

  /** Re-reads the TLS certificate and key (SIGHUP); sessions keep running. Returns each site's certificate now in use. */
  reloadTls(): Array<CertificateSummary & { site: string }> {
    return this.services.sites.all.flatMap((site) => (site.tls ? [{ site: site.name, ...site.tls.reload() }] : []));
  }

  /**
   * Hot reload (SIGHUP): the new sites replace the running ones (each session moves to its
   * site's new settings at its next command: timeouts, passive and active rules, TLS,
   * users, limits and quotas), and the server-wide settings that can change live do:
   * connection limits and rate, the passive range, trusted proxies, the log level. Keys
   * only a restart applies keep their running values and are reported.
   */
  reconfigure(next: ServerReconfiguration): ConfigChanges {
    const changes = configChanges(this.config, next.config);
    const config = runnableConfig(this.config, next.config);
    const { logger } = this.options;
    const { limits } = config;
    if (limits.connection_rate !== this.config.limits.connection_rate || limits.connection_burst !== this.config.limits.connection_burst) {
      this.connectionRate = new ConnectionRateLimiter({ rate: limits.connection_rate, burst: limits.connection_burst });
    }
    this.services.portPool.setRange(config.passive.ports);
    this.services.proxyTrust = new ProxyTrust(config.proxy_protocol.trusted);
    this.services.sites = new SiteDirectory(defaultSite({ ...next, config }, logger), next.sites);
    if (logger.level !== config.log.level) {
      logger.level = config.log.level;
      for (const session of this.sessions) session.logger.level = config.log.level;
    }
    this.config = config;
    return changes;
  }

  /** Re-opens the log files at their paths (SIGHUP, after logrotate moved them). */
  async reopenLogs(): Promise<void> {
    await this.transferLog?.reopen();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts listening; resolves with the bound addresses (port 0 picks a free port). */
  async listen(): Promise<BoundAddresses> {
    // Only the local storage relies on /proc for its confinement.
    if (!this.options.openStorage) warnIfConfinementRacy(this.options.logger);
    // First, so a taken admin port stops the start before anything else is opened.
    const admin = await this.startAdmin();
    try {
      await this.openTransferLog();
      this.startHooks();
      // Before the first client: the bans other nodes have in force apply here from the start,
      // and so do their users' sessions. Side by side, so an unreachable Redis costs one wait.
      const { logger } = this.options;
      const { config } = this;
      await Promise.all([
        this.ledger?.start(this.services.defender).catch((error: Error) => {
          logger.warn({ err: error.message, url: config.cluster.redis }, 'cluster Redis unreachable at start; this node bans alone until it connects');
        }),
        this.clusterSessions?.start().catch((error: Error) => {
          logger.warn({ err: error.message, url: config.cluster.redis }, "cluster Redis unreachable at start; max_sessions counts this node's sessions only until it connects");
        }),
      ]);
      return { ...(await this.bind()), admin };
    } catch (error) {
      // Safe whether they connected or not (they only end what they opened).
      await this.ledger?.close();
      await this.clusterSessions?.close();
      await this.transferLog?.close();
      this.transferLog = null;
      await this.hooks?.close(0);
      this.hooks = null;
      await this.admin?.close();
      this.admin = null;
      throw error;
    }
  }

  private async bind(): Promise<Omit<BoundAddresses, 'admin'>> {
    const { host, port, tls } = this.config;
    const bound = await listenOn(this.listener, host, port);
    if (!this.implicitListener) return { ...bound, implicitPort: null };
    try {
      const implicit = await listenOn(this.implicitListener, host, tls.implicit_port);
      return { ...bound, implicitPort: implicit.port };
    } catch (error) {
      this.listener.close();
      throw error;
    }
  }

  /** Before the first client, so a path that cannot be written stops the start (a config error naming log.transfers). */
  private async openTransferLog(): Promise<void> {
    const { transfers, transfers_format } = this.config.log;
    if (!transfers) return;
    this.transferLog = await TransferLog.open({
      path: transfers,
      format: transfers_format,
      logger: this.options.logger,
      accepts: (event) => this.ownSessions.has(event.session),
    });
  }

  private startHooks(): void {
    const { hooks } = this.config;
    if (hooks.actions.length === 0) return;
    this.hooks = new HookDispatcher({ config: hooks, logger: this.options.logger, accepts: (session) => this.ownSessions.has(session) });
  }

  private async startAdmin(): Promise<BoundAddresses['admin']> {
    const { listen, token, user, password } = this.config.admin;
    const { portPool, defender } = this.services;
    const { worker } = this.options;
    // Nobody scrapes without a listener (the primary's, for a worker): then nothing is counted,
    // and no transfer event is built for the metrics.
    if (worker && !worker.metricsScraped) return null;
    const sources = { sessions: () => this.sessions.size, passivePorts: () => portPool.usage, bannedAddresses: () => defender.bannedCount };
    const webAdminOn = token !== undefined || user !== undefined;
    if (worker) {
      this.workerMetrics = new FerryMetrics(sources);
      // Constructing one is what makes prom-client answer the primary's requests for them.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([this.workerMetrics.registry]);
      if (webAdminOn) worker.admin.serve(new LocalAdminData(this.adminSources(), this.workerMetrics.registry));
      return null;
    }
    if (!listen) return null;
    const webAdmin = webAdminOn ? { credentials: { token, user, password }, logger: this.options.logger, sources: this.adminSources() } : undefined;
    this.admin = await AdminServer.start(listen, sources, webAdmin);
    return this.admin.address;
  }

  /** What the web admin reads and acts on: this process's sessions and defender. */
  private adminSources(): AdminSources {
    const { defender } = this.services;
    return { sessions: () => this.sessions, bans: () => defender.listBans(), unban: (address, by) => defender.unban(address, by) };
  }

  private accept(socket: Socket, implicitTls: boolean): void {
    if (this.services.proxyTrust.trusts(socket.remoteAddress ?? '')) void this.acceptProxied(socket, implicitTls);
    else this.admit(socket, ConnectionInfo.fromSocket(socket, implicitTls));
  }

  /**
   * A connection from a trusted proxy: its PROXY header says who the client is, and the
   * limits, bans and logs then apply to that client. Without a valid header the
   * connection is closed unanswered (the proxy is misconfigured, or it is not the proxy).
   */
  private async acceptProxied(socket: Socket, implicitTls: boolean): Promise<void> {
    socket.pause();
    const proxy = `${socket.remoteAddress}:${socket.remotePort}`;
    let connection: ConnectionInfo;
    try {
      const { source, destination } = await readProxyHeader(socket);
      connection = source && destination ? ConnectionInfo.proxied(socket, implicitTls, source, destination) : ConnectionInfo.fromSocket(socket, implicitTls);
    } catch (error) {
      this.refusalLog.warn('FERRY_ERR_PROXY_HEADER', { proxy, code: 'FERRY_ERR_PROXY_HEADER', reason: (error as Error).message }, 'connection from a trusted proxy closed: no valid PROXY header');
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    this.admit(socket, connection);
  }

  private admit(socket: Socket, connection: ConnectionInfo): void {
    const address = connection.remoteAddress;
    const refusal = this.refusalFor(address);
    if (refusal) {
      this.refuse(socket, address, refusal);
      return;
    }
    const gate = this.options.worker?.gate;
    if (gate) {
      void this.admitThroughGate(gate, socket, connection);
      return;
    }
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.open(socket, connection, () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }

  /** A worker's connection: the primary counts it with the other workers' before it is let in. */
  private async admitThroughGate(gate: ConnectionGate, socket: Socket, connection: ConnectionInfo): Promise<void> {
    const address = connection.remoteAddress;
    // Meanwhile the socket reads nothing (pauseOnConnect): a client gone by then is seen by its session, which gives the place back.
    const entered = await gate.enter(address);
    // Let in by the primary, but the server began to stop meanwhile: the place goes back.
    if (entered === null && this.shuttingDown) gate.leave(address);
    const refusal = entered ?? (this.shuttingDown ? 'FERRY_ERR_SHUTTING_DOWN' : null);
    if (refusal) {
      this.refuse(socket, address, refusal);
      return;
    }
    this.open(socket, connection, () => gate.leave(address));
  }

  private open(socket: Socket, connection: ConnectionInfo, onClose: () => void): void {
    const session = new Session(socket, connection, this.services);
    this.sessions.add(session);
    this.ownSessions.add(session);
    socket.once('close', () => {
      this.sessions.delete(session);
      onClose();
    });
    session.start();
  }

  /**
   * Why a new connection from `address` is refused, or null. The descriptor reserve and
   * bans come first (they protect the server); past them every connection takes a rate
   * token, even one then refused by max_clients or max_per_ip, so a flood stays refused.
   */
  private refusalFor(address: string): ErrorCode | null {
    const { config } = this;
    if (this.shuttingDown) return 'FERRY_ERR_SHUTTING_DOWN';
    if (!this.descriptors.admit()) return 'FERRY_ERR_NO_DESCRIPTORS';
    if (this.services.defender.isBanned(address)) return 'FERRY_ERR_BANNED';
    // A worker's gate counts the rest, for all workers.
    if (this.options.worker) return null;
    if (!this.connectionRate.take(address)) return 'FERRY_ERR_CONNECTION_RATE';
    if (config.max_clients > 0 && this.sessions.size >= config.max_clients) return 'FERRY_ERR_TOO_MANY_CLIENTS';
    if (config.max_per_ip > 0 && (this.perAddress.get(address) ?? 0) >= config.max_per_ip) return 'FERRY_ERR_TOO_MANY_PER_ADDRESS';
    return null;
  }

  /**
   * 421 and the end of the connection: the socket is destroyed as soon as the reply is
   * written, or after a short grace, never waiting for the peer to close its side.
   */
  private refuse(socket: Socket, address: string, code: ErrorCode): void {
    const fields = { remote: address, code, reason: ERRORS[code].message };
    if (code === 'FERRY_ERR_NO_DESCRIPTORS') {
      this.refusalLog.warn(code, { ...fields, inUse: this.descriptors.inUse, limit: this.descriptors.softLimit, reserve: this.descriptors.reserve }, 'connection refused: descriptors low');
    } else {
      this.refusalLog.warn(code, fields, 'connection refused');
    }
    socket.on('error', () => undefined);
    const destroy = () => socket.destroy();
    const grace = setTimeout(destroy, REFUSAL_GRACE_MS).unref();
    socket.once('close', () => clearTimeout(grace));
    socket.end(formatReply(ERRORS[code].reply, ERRORS[code].message), destroy);
  }

  /**
   * Graceful shutdown: stop accepting, tell idle sessions 421, let transfers finish for
   * up to `graceMs`, then close whatever is left.
   */
  async close(graceMs = this.config.shutdown_grace * 1000): Promise<void> {
    this.shuttingDown = true;
    /** Each transfer's end: it publishes its event after its cleanup, which may outlast its control connection. */
    const transfersDone = new Set<Promise<void>>();
    const noteTransfers = () => {
      for (const session of this.sessions) if (session.transfer) transfersDone.add(session.transfer.done);
    };
    noteTransfers();
    const listeners = [this.listener, ...(this.implicitListener ? [this.implicitListener] : [])];
    const closed = Promise.all(listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
    for (const session of this.sessions) {
      if (!session.isBusy) session.close(Reply.ServiceNotAvailable, 'Server shutting down.');
    }
    // Not events.once: it rejects when a socket errors on its way out (EPIPE to a vanished client).
    const allClosed = Promise.all(
      [...this.sessions].map((session) => (session.socket.destroyed ? null : new Promise((resolve) => session.socket.once('close', resolve)))),
    );
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([allClosed, graceOver]);
    clearTimeout(timer);
    noteTransfers();
    for (const session of this.sessions) {
      session.close(Reply.ServiceNotAvailable, 'Server shutting down.');
      session.socket.destroy();
    }
    await closed;
    // The transfers cut short above still clean up (an upload's partial file) before they
    // publish: the transfer log and metrics wait for them, briefly, so they are counted.
    await settledWithin([...transfersDone], TRANSFER_END_WAIT_MS);
    // Last: the metrics stay scrapable while transfers drain.
    await this.admin?.close();
    this.admin = null;
    this.options.worker?.admin.close();
    this.workerMetrics?.close();
    await this.ledger?.close();
    // After the sessions: what they still hold leaves Redis with this node.
    await this.clusterSessions?.close();
    await this.transferLog?.close();
    await this.hooks?.close(HOOKS_END_WAIT_MS);
  }
}

function listenOn(server: Server, host: string, port: number): Promise<{ address: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const bound = server.address() as { address: string; port: number };
      resolve({ address: bound.address, port: bound.port });
    });
  });
}
