/**
 * The primary's count of every worker's connections: connection_rate, max_clients and
 * max_per_ip hold for the whole server, not once per worker.
 */
import type { ErrorCode } from '../../errors.js';
import type { FerryConfig } from '../../config/schema.js';
import { ConnectionRateLimiter } from '../rate-limiter.js';
import { WorkerTally } from './worker-tally.js';

type Limits = Pick<FerryConfig, 'max_clients' | 'max_per_ip' | 'limits'>;

export class ConnectionCounts {
  private readonly open = new WorkerTally();
  private limits!: Limits;
  private rate!: ConnectionRateLimiter;

  constructor(limits: Limits) {
    this.setLimits(limits);
  }

  /** A reload's limits; the connections open now stay. */
  setLimits(limits: Limits): void {
    const { connection_rate: rate, connection_burst: burst } = limits.limits;
    if (!this.limits || this.limits.limits.connection_rate !== rate || this.limits.limits.connection_burst !== burst) this.rate = new ConnectionRateLimiter({ rate, burst });
    this.limits = limits;
  }

  /** In the single-process order: every connection takes a rate token, then the counts. */
  enter(worker: number, address: string): ErrorCode | null {
    if (!this.rate.take(address)) return 'FERRY_ERR_CONNECTION_RATE';
    const { max_clients, max_per_ip } = this.limits;
    if (max_clients > 0 && this.open.total >= max_clients) return 'FERRY_ERR_TOO_MANY_CLIENTS';
    if (max_per_ip > 0 && this.open.count(address) >= max_per_ip) return 'FERRY_ERR_TOO_MANY_PER_ADDRESS';
    this.open.take(worker, address);
    return null;
  }

  leave(worker: number, address: string): void {
    this.open.give(worker, address);
  }

  dropWorker(worker: number): void {
    this.open.dropWorker(worker);
  }
}
