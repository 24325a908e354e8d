/**
 * Prometheus metrics (prom-client). Counters follow the diagnostics_channel events
 * (events.ts), so protocol code never calls into metrics and nothing subscribes while
 * metrics are off; gauges of state (passive ports, bans) are read when scraped.
 *
 * The channels are process-wide, so the counters count every Ferry server of the
 * process (one, under `ferry serve`); the gauges (sessions, passive ports, bans) read the
 * server that started them, when scraped.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { events, type BanEvent, type CommandEvent, type LoginEvent, type TlsHandshakeFailedEvent, type TransferEvent } from './events.js';

/** What the gauges read from the server at each scrape. */
export interface MetricSources {
  /** Control connections open now. */
  sessions(): number;
  passivePorts(): { inUse: number; free: number };
  /** Addresses banned now. */
  bannedAddresses(): number;
}

type Direction = TransferEvent['direction'] | 'listing';

/** Files go down or up; listings (LIST, NLST, MLSD) have a label of their own. */
function directionOf(event: TransferEvent): Direction {
  return event.kind === 'listing' ? 'listing' : event.direction;
}

const DIRECTIONS: readonly Direction[] = ['download', 'upload', 'listing'];
const TRANSFER_OUTCOMES: readonly TransferEvent['outcome'][] = ['complete', 'aborted', 'failed'];
const LOGIN_OUTCOMES = ['success', 'failure', 'refused'] as const;

/** From a fast listing to a large file over a slow link. */
const DURATION_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

/** Label for verbs the site does not know: the client picks those, and must not pick the number of series. */
export const OTHER_VERB = 'OTHER';

/**
 * Node's own metrics (event-loop lag, heap, GC, descriptors) as ferry_nodejs_* and
 * ferry_process_*: registered once per process, since collecting them starts
 * process-wide observers that prom-client never stops.
 */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'ferry_' });
  }
  return processRegistry;
}

export class FerryMetrics {
  /** Ferry's metrics and the process's, as scraped at /metrics. */
  readonly registry: Registry;
  private readonly subscriptions: Array<[name: string | symbol, onMessage: (message: unknown) => void]> = [];

  constructor(sources: MetricSources) {
    const own = new Registry();
    const registers = [own];
    new Gauge({
      name: 'ferry_sessions_active',
      help: 'Control connections open now.',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
    const logins = new Counter({
      name: 'ferry_logins_total',
      help: 'Logins by outcome: success, failure (wrong name or password), refused (banned or too many checks in flight, before any password check).',
      labelNames: ['outcome'],
      registers,
    });
    const transfers = new Counter({
      name: 'ferry_transfers_total',
      help: 'Finished transfers by direction (download, upload, listing) and outcome (complete, aborted, failed).',
      labelNames: ['direction', 'outcome'],
      registers,
    });
    const bytes = new Counter({ name: 'ferry_transfer_bytes_total', help: 'Bytes moved over data connections, whatever the outcome.', labelNames: ['direction'], registers });
    const duration = new Histogram({
      name: 'ferry_transfer_duration_seconds',
      help: 'Transfer time, from the command to the final reply.',
      labelNames: ['direction'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const commands = new Counter({
      name: 'ferry_commands_total',
      help: `Commands by verb (${OTHER_VERB} for verbs the server does not know) and class of their final reply.`,
      labelNames: ['verb', 'class'],
      registers,
    });
    const tlsFailures = new Counter({
      name: 'ferry_tls_handshake_failures_total',
      help: 'TLS handshakes that failed or timed out, on the control connection or a data connection.',
      labelNames: ['connection'],
      registers,
    });
    const bans = new Counter({ name: 'ferry_bans_total', help: 'Addresses this node banned (bans adopted from other nodes are not counted).', registers });
    new Gauge({
      name: 'ferry_banned_addresses',
      help: 'Addresses banned now (including bans adopted from other nodes).',
      registers,
      // Every worker holds every ban: summing them would count each one once per worker.
      aggregator: 'max',
      collect() {
        this.set(sources.bannedAddresses());
      },
    });
    new Gauge({
      name: 'ferry_passive_ports_in_use',
      help: 'Passive data listeners open now.',
      registers,
      collect() {
        this.set(sources.passivePorts().inUse);
      },
    });
    new Gauge({
      name: 'ferry_passive_ports_free',
      help: 'Ports of passive.ports not in use by this server (with "0": of the unprivileged ports).',
      registers,
      collect() {
        this.set(sources.passivePorts().free);
      },
    });
    // Every known series starts at 0, so a rate is defined from the first scrape.
    for (const outcome of LOGIN_OUTCOMES) logins.labels(outcome).inc(0);
    for (const direction of DIRECTIONS) {
      bytes.labels(direction).inc(0);
      duration.zero({ direction });
      for (const outcome of TRANSFER_OUTCOMES) transfers.labels(direction, outcome).inc(0);
    }
    for (const connection of ['control', 'data']) tlsFailures.labels(connection).inc(0);

    this.on(events.login.name, (event: LoginEvent) => logins.labels(event.success ? 'success' : 'failure').inc());
    this.on(events.loginRefused.name, () => logins.labels('refused').inc());
    this.on(events.transfer.name, (event: TransferEvent) => {
      const direction = directionOf(event);
      transfers.labels(direction, event.outcome).inc();
      bytes.labels(direction).inc(event.bytes);
      duration.labels(direction).observe(event.durationMs / 1000);
    });
    this.on(events.command.name, (event: CommandEvent) => {
      commands.labels(event.known && event.verb !== null ? event.verb : OTHER_VERB, `${Math.floor(event.code / 100)}xx`).inc();
    });
    this.on(events.tlsHandshakeFailed.name, (event: TlsHandshakeFailedEvent) => tlsFailures.labels(event.connection).inc());
    this.on(events.ban.name, (event: BanEvent) => {
      if (!event.adopted) bans.inc();
    });
    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** Stops counting: every subscription ends. */
  close(): void {
    for (const [name, onMessage] of this.subscriptions.splice(0)) unsubscribe(name, onMessage);
  }

  private on<T>(name: string | symbol, onMessage: (message: T) => void): void {
    const handler = onMessage as (message: unknown) => void;
    subscribe(name, handler);
    this.subscriptions.push([name, handler]);
  }
}
