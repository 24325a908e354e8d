/**
 * Passive ports: each PASV/EPSV takes a free port from the configured range.
 *
 * Race-free within this process: a port is marked taken synchronously, before the
 * asynchronous listen, so two sessions asking at once never try the same port; the
 * kernel's bind settles races with other processes (EADDRINUSE moves on to the next
 * port). The search starts at a random port so concurrent servers spread out.
 */
import { createServer, type Server } from 'node:net';
import { FtpError } from '../../errors.js';

export interface PortRange {
  min: number;
  max: number;
}

export interface BoundListener {
  server: Server;
  port: number;
  /** Closes the listener and returns the port to the pool; safe to call twice. */
  release(): void;
}

const RETRYABLE = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/** "Any port": the unprivileged range, sampled at random a bounded number of times. */
const ANY_PORTS: PortRange = { min: 1024, max: 65535 };
const ANY_PORT_ATTEMPTS = 64;

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true, backlog: 4 });
  });
}

/** Passive listeners bound now, and the ports of the range that are not (for the metrics). */
export interface PortUsage {
  inUse: number;
  free: number;
}

export class PassivePortPool {
  private readonly taken = new Set<number>();
  /** Listeners handed out and not yet released. */
  private bound = 0;

  /** `range` null: any unprivileged port. */
  constructor(private range: PortRange | null) {}

  /** A new range (a reload) for the next listeners; those bound now stay until released. */
  setRange(range: PortRange | null): void {
    this.range = range;
  }

  /** Without a range, "free" counts the unprivileged ports (other processes' are not known either way). */
  get usage(): PortUsage {
    const { min, max } = this.range ?? ANY_PORTS;
    return { inUse: this.bound, free: Math.max(0, max - min + 1 - this.bound) };
  }

  async listen(host: string): Promise<BoundListener> {
    if (!this.range) {
      // Random unprivileged ports, as vsftpd does without pasv_min_port: bind(0) gets slow
      // when thousands of finished data connections sit in TIME_WAIT (the kernel scans for
      // a port with no TIME_WAIT entry; a chosen port may be reused despite them).
      const chosen = await this.tryRange(host, ANY_PORTS, ANY_PORT_ATTEMPTS);
      if (chosen) return chosen;
      const server = createServer({ pauseOnConnect: true });
      await listenOn(server, host, 0);
      return this.handOut(server, (server.address() as { port: number }).port, () => undefined);
    }
    const chosen = await this.tryRange(host, this.range, this.range.max - this.range.min + 1);
    if (chosen) return chosen;
    throw new FtpError('FERRY_ERR_NO_PASSIVE_PORT', `No passive port free in ${this.range.min}-${this.range.max}; try again later.`);
  }

  /** Tries up to `attempts` ports of `range`, from a random one on; null when none could be bound. */
  private async tryRange(host: string, range: PortRange, attempts: number): Promise<BoundListener | null> {
    const { min, max } = range;
    const size = max - min + 1;
    const first = Math.floor(Math.random() * size);
    for (let i = 0; i < attempts; i++) {
      const port = min + ((first + i) % size);
      if (this.taken.has(port)) continue;
      this.taken.add(port);
      const server = createServer({ pauseOnConnect: true });
      try {
        await listenOn(server, host, port);
      } catch (error) {
        this.taken.delete(port);
        if (RETRYABLE.has((error as NodeJS.ErrnoException).code ?? '')) continue;
        throw new FtpError('FERRY_ERR_NO_PASSIVE_PORT', undefined, { cause: error });
      }
      return this.handOut(server, port, () => this.taken.delete(port));
    }
    return null;
  }

  /** A bound listener, counted until its first release. */
  private handOut(server: Server, port: number, onRelease: () => void): BoundListener {
    this.bound++;
    let released = false;
    return {
      server,
      port,
      release: () => {
        if (released) return;
        released = true;
        this.bound--;
        // The listening socket is closed synchronously, so the port is free again now
        // (the close callback would wait for the accepted data connection to end).
        server.close();
        onRelease();
      },
    };
  }
}
