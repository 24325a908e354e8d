/**
 * FtpServer: the control-connection listener, connection limits and lifecycle
 * (including graceful shutdown: stop accepting, 421 to idle sessions, let running
 * transfers finish within a grace period).
 */
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import { isIP, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Authenticator, UserContext } from '../auth/authenticator.js';
import { effectiveTlsMode, type FerryConfig } from '../config/schema.js';
import { canonicalAddress } from '../protocol/address.js';
import { formatReply, Reply } from '../protocol/replies.js';
import type { StorageBackend } from '../storage/backend.js';
import { LocalStorage } from '../storage/local.js';
import { defaultCommandTable } from './commands/table.js';
import { PassivePortPool } from './data/port-pool.js';
import { Session, type ServerContext } from './session.js';
import { TlsProvider } from './tls/tls-provider.js';

export interface FtpServerOptions {
  config: FerryConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Storage for a logged-in user; local folder storage of the user's home by default. */
  openStorage?: (user: UserContext) => Promise<StorageBackend>;
}

export interface BoundAddresses {
  address: string;
  port: number;
  /** The implicit FTPS listener's port, when it runs. */
  implicitPort: number | null;
}

export class FtpServer {
  private readonly listener: Server;
  /** Implicit FTPS (TLS before the greeting), when TLS is on and tls.implicit is true. */
  private readonly implicitListener: Server | null;
  private readonly sessions = new Set<Session>();
  private readonly perAddress = new Map<string, number>();
  private readonly context: ServerContext;
  private shuttingDown = false;

  constructor(private readonly options: FtpServerOptions) {
    const { config, logger } = options;
    const tlsMode = effectiveTlsMode(config);
    const tls = tlsMode !== 'off' && config.tls.cert && config.tls.key ? new TlsProvider({ cert: config.tls.cert, key: config.tls.key }) : null;
    this.context = {
      tls,
      tlsMode,
      config,
      logger,
      authenticator: options.authenticator,
      portPool: new PassivePortPool(config.passive.ports),
      commands: defaultCommandTable(),
      openStorage: options.openStorage ?? (async (user) => new LocalStorage(user.home)),
      masqueradeAddress: () => this.masqueradeAddress(),
      isShuttingDown: () => this.shuttingDown,
    };
    this.listener = createServer((socket) => this.accept(socket, false));
    this.implicitListener = tls && config.tls.implicit ? createServer((socket) => this.accept(socket, true)) : null;
  }

  /** Re-reads the TLS certificate and key (SIGHUP); sessions keep running. */
  reloadTls(): void {
    this.context.tls?.reload();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts listening; resolves with the bound addresses (port 0 picks a free port). */
  async listen(): Promise<BoundAddresses> {
    const { host, port, tls } = this.options.config;
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

  private accept(socket: Socket, implicitTls: boolean): void {
    const { config, logger } = this.options;
    const address = canonicalAddress(socket.remoteAddress ?? '');
    const fromAddress = this.perAddress.get(address) ?? 0;
    const refusal =
      this.shuttingDown
        ? 'Server shutting down.'
        : config.max_clients > 0 && this.sessions.size >= config.max_clients
          ? 'Too many users connected; try again later.'
          : config.max_per_ip > 0 && fromAddress >= config.max_per_ip
            ? 'Too many connections from your address.'
            : null;
    if (refusal) {
      logger.warn({ remote: address, reason: refusal }, 'connection refused');
      socket.on('error', () => undefined);
      socket.end(formatReply(Reply.ServiceNotAvailable, refusal));
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    const session = new Session(socket, this.context);
    this.sessions.add(session);
    socket.once('close', () => {
      this.sessions.delete(session);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    session.start({ implicitTls });
  }

  /** The configured PASV address, resolved now when it is a host name (it may change). */
  private async masqueradeAddress(): Promise<string | null> {
    const configured = this.options.config.passive.address;
    if (!configured) return null;
    if (isIP(configured) === 4) return configured;
    try {
      return (await lookup(configured, { family: 4 })).address;
    } catch (error) {
      this.options.logger.error({ err: error, host: configured }, 'cannot resolve passive.address; advertising the local address');
      return null;
    }
  }

  /**
   * Graceful shutdown: stop accepting, tell idle sessions 421, let transfers finish for
   * up to `graceMs`, then close whatever is left.
   */
  async close(graceMs = this.options.config.shutdown_grace * 1000): Promise<void> {
    this.shuttingDown = true;
    const listeners = [this.listener, ...(this.implicitListener ? [this.implicitListener] : [])];
    const closed = Promise.all(listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
    for (const session of this.sessions) {
      if (!session.isBusy) session.close(Reply.ServiceNotAvailable, 'Server shutting down.');
    }
    const allClosed = Promise.all([...this.sessions].map((session) => (session.socket.destroyed ? null : once(session.socket, 'close'))));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([allClosed, graceOver]);
    clearTimeout(timer);
    for (const session of this.sessions) {
      session.close(Reply.ServiceNotAvailable, 'Server shutting down.');
      session.socket.destroy();
    }
    await closed;
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
