/**
 * The operations listener (`[admin] listen`): plain HTTP on an address of its own, never
 * the FTP port, serving GET /metrics to Prometheus without a login (hence off by default
 * and meant for loopback or a private network), and, once `admin.token` or
 * `admin.user`/`admin.password` is set, the web admin and its JSON API behind that login
 * (admin/router.ts). Without a login configured, every other path is 404 saying how to
 * turn the web admin on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import { formatListenAddress, type HostPort } from '../protocol/address.js';
import { FerryMetrics, type MetricSources } from './metrics.js';
import { WebAdmin, type WebAdminOptions } from './admin/router.js';
import type { AdminSources } from './admin/sources.js';
import { LocalAdminData } from './admin/views.js';

export const METRICS_PATH = '/metrics';

const WEB_ADMIN_OFF = `Not found. The metrics are at ${METRICS_PATH}; the web admin is off: set admin.token, or admin.user and admin.password, to turn it on.`;

/** A scraper that stalls must not hold a socket for long. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The web admin of one process: over its own sessions and defender. */
export type LocalWebAdminOptions = Omit<WebAdminOptions, 'data'> & { sources: AdminSources };

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  response.end(`${text}\n`);
}

/** Where a scrape's text comes from: this process's registry, or the workers' summed (several worker processes). */
interface MetricsSource {
  metrics(): Promise<string>;
  contentType: string;
}

async function handle(registry: MetricsSource, webAdmin: WebAdmin | null, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '').split('?')[0]!;
  if (path !== METRICS_PATH) {
    if (webAdmin) return webAdmin.handle(request, response, path);
    return plain(response, 404, WEB_ADMIN_OFF);
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(response, 405, 'Method not allowed.', { Allow: 'GET, HEAD' });
  let body: string;
  try {
    body = await registry.metrics();
  } catch (error) {
    return plain(response, 500, `Metrics unavailable: ${(error as Error).message}`);
  }
  response.writeHead(200, { 'Content-Type': registry.contentType });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export class AdminServer {
  private constructor(
    private readonly server: Server,
    /** Null when the workers count (the listener only asks them). */
    private readonly metrics: FerryMetrics | null,
    /** The bound address and port (port 0 in the config picks a free one). */
    readonly address: HostPort,
  ) {}

  /**
   * Starts counting and listens on `address`. A port that cannot be had (in use,
   * privileged) is an error naming admin.listen; then nothing stays subscribed. With
   * `webAdmin` the web admin runs too.
   */
  static async start(address: HostPort, sources: MetricSources, webAdmin?: LocalWebAdminOptions): Promise<AdminServer> {
    const metrics = new FerryMetrics(sources);
    const admin = webAdmin ? new WebAdmin({ ...webAdmin, data: new LocalAdminData(webAdmin.sources, metrics.registry) }) : null;
    try {
      const [server, bound] = await AdminServer.listen(address, metrics.registry, admin, webAdmin?.logger);
      return new AdminServer(server, metrics, bound);
    } catch (error) {
      metrics.close();
      throw error;
    }
  }

  /**
   * The primary's listener (workers = N): /metrics sums what every worker process counts;
   * with `webAdmin` (its data asked from the workers) the web admin runs too.
   */
  static async startForWorkers(address: HostPort, webAdmin?: WebAdminOptions): Promise<AdminServer> {
    const workers = new AggregatorRegistry();
    const source: MetricsSource = { metrics: () => workers.clusterMetrics(), contentType: workers.contentType };
    const [server, bound] = await AdminServer.listen(address, source, webAdmin ? new WebAdmin(webAdmin) : null, webAdmin?.logger);
    return new AdminServer(server, null, bound);
  }

  private static async listen(address: HostPort, registry: MetricsSource, admin: WebAdmin | null, logger?: WebAdminOptions['logger']): Promise<[Server, HostPort]> {
    const server = createServer((request, response) => {
      handle(registry, admin, request, response).catch((error: Error) => {
        if (!response.headersSent) plain(response, 500, 'Internal error.');
        else response.destroy();
        logger?.error({ err: error }, 'admin listener: request failed');
      });
    });
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address.host, port: address.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw new Error(`admin.listen: cannot listen on ${formatListenAddress(address)}: ${(error as Error).message}`, { cause: error });
    }
    const bound = server.address() as { address: string; port: number };
    return [server, { host: bound.address, port: bound.port }];
  }

  /** Stops listening, drops open scrapes and stops counting. */
  async close(): Promise<void> {
    this.metrics?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
