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
import type { FerryConfig } from '../config/schema.js';
import { canonicalAddress } from '../protocol/address.js';
import { formatReply, Reply } from '../protocol/replies.js';
import type { StorageBackend } from '../storage/backend.js';
import { LocalStorage } from '../storage/local.js';
import { defaultCommandTable } from './commands/table.js';
import { PassivePortPool } from './data/port-pool.js';
import { Session, type ServerContext } from './session.js';

export interface FtpServerOptions {
  config: FerryConfig;
  authenticator: Authenticator;
  logger: Logger;
  /** Storage for a logged-in user; local folder storage of the user's home by default. */
  openStorage?: (user: UserContext) => Promise<StorageBackend>;
}

export class FtpServer {
  private readonly listener: Server;
  private readonly sessions = new Set<Session>();
  private readonly perAddress = new Map<string, number>();
  private readonly context: ServerContext;
  private shuttingDown = false;

  constructor(private readonly options: FtpServerOptions) {
    const { config, logger } = options;
    this.context = {
      config,
      logger,
      authenticator: options.authenticator,
      portPool: new PassivePortPool(config.passive.ports),
      commands: defaultCommandTable(),
      openStorage: options.openStorage ?? (async (user) => new LocalStorage(user.home)),
      masqueradeAddress: () => this.masqueradeAddress(),
      isShuttingDown: () => this.shuttingDown,
    };
    this.listener = createServer((socket) => this.accept(socket));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<{ address: string; port: number }> {
    const { host, port } = this.options.config;
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen({ host, port }, () => {
        this.listener.off('error', reject);
        const bound = this.listener.address() as { address: string; port: number };
        resolve({ address: bound.address, port: bound.port });
      });
    });
  }

  private accept(socket: Socket): void {
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
    session.start();
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
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
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
