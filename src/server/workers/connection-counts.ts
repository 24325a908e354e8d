/**
 * The primary's count of every worker's connections: connection_rate, max_clients and
 * max_per_ip hold for the whole server, not once per worker. Each worker's share is kept
 * apart so a worker that dies gives its places back.
 */
import type { ErrorCode } from '../../errors.js';
import type { FerryConfig } from '../../config/schema.js';
import { ConnectionRateLimiter } from '../rate-limiter.js';

type Limits = Pick<FerryConfig, 'max_clients' | 'max_per_ip' | 'limits'>;

function add(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

export class ConnectionCounts {
  private readonly perAddress = new Map<string, number>();
  /** Worker id -> its connections per address. */
  private readonly perWorker = new Map<number, Map<string, number>>();
  private total = 0;
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
    if (max_clients > 0 && this.total >= max_clients) return 'FERRY_ERR_TOO_MANY_CLIENTS';
    if (max_per_ip > 0 && (this.perAddress.get(address) ?? 0) >= max_per_ip) return 'FERRY_ERR_TOO_MANY_PER_ADDRESS';
    this.total++;
    add(this.perAddress, address, 1);
    const own = this.perWorker.get(worker) ?? new Map<string, number>();
    this.perWorker.set(worker, own);
    add(own, address, 1);
    return null;
  }

  leave(worker: number, address: string): void {
    const own = this.perWorker.get(worker);
    if (!own?.has(address)) return;
    add(own, address, -1);
    add(this.perAddress, address, -1);
    this.total--;
  }

  /** A worker exited: its connections went with it. */
  dropWorker(worker: number): void {
    for (const [address, count] of this.perWorker.get(worker) ?? []) {
      add(this.perAddress, address, -count);
      this.total -= count;
    }
    this.perWorker.delete(worker);
  }
}
