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

export class PassivePortPool {
  private readonly taken = new Set<number>();

  /** `range` null: let the OS pick any free port. */
  constructor(private readonly range: PortRange | null) {}

  get inUse(): number {
    return this.taken.size;
  }

  async listen(host: string): Promise<BoundListener> {
    if (!this.range) {
      const server = createServer({ pauseOnConnect: true });
      await listenOn(server, host, 0);
      const port = (server.address() as { port: number }).port;
      return { server, port, release: () => server.close() };
    }
    const { min, max } = this.range;
    const size = max - min + 1;
    const first = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
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
      let released = false;
      return {
        server,
        port,
        release: () => {
          if (released) return;
          released = true;
          // The listening socket is closed synchronously, so the port is free again now
          // (the close callback would wait for the accepted data connection to end).
          server.close();
          this.taken.delete(port);
        },
      };
    }
    throw new FtpError('FERRY_ERR_NO_PASSIVE_PORT', `No passive port free in ${min}-${max}; try again later.`);
  }
}
