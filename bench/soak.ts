/**
 * `npm run soak`: many concurrent clients doing mixed transfers against a Ferry child
 * process, with injected data-connection resets (TYPE I and TYPE A), ABORs, stalls and
 * vanished clients. A share of the clients (`--tls-share`, default 1 in 4) use explicit
 * FTPS (AUTH TLS, PROT P, data TLS resuming the control session): clean uploads with
 * close_notify, downloads, resets below TLS, and uploads ended by a bare TCP FIN without
 * close_notify, which the default `tls.strict_upload_eof` must refuse with 426.
 * Checks every read-back against the committed versions (never a truncated or stale
 * file), that no `.ferry-upload-*` temp file is left, and that descriptors, listening
 * sockets and RSS return to their post-warm-up baseline. Bounded in time and count.
 *
 *   npm run soak -- --seconds 60 --clients 50 [--max-ops 100000] [--tls-share 0.25]
 *
 * Prints a summary table; exits 1 on any integrity failure, protocol failure or leak.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UPLOAD_TEMP_PREFIX } from '../src/storage/local.js';
import { startFerry } from './ferry-server.js';
import { processFigures, type ProcessFigures } from './soak-probe.js';
import { Ledger } from './soak-ledger.js';
import { OP_KINDS, OPS, type OpContext, type OpKind } from './soak-ops.js';
import { SoakSession } from './soak-session.js';

interface Options {
  seconds: number;
  clients: number;
  maxOps: number;
  /** Fraction of the clients that use FTPS. */
  tlsShare: number;
}

/** How far RSS may end above the baseline before it counts as a leak (the V8 heap keeps some of what it grew). */
const RSS_SLACK_BYTES = 64 * 1024 * 1024;
// Longer than the zero-copy addon's idle-thread lifetime (30 s, native/sendfile.c): each
// parked worker thread holds an eventfd until it exits.
const SETTLE_MS = 45_000;
const WARMUP_MS = 3000;
const MAX_DETAILS = 25;

type Weights = Partial<Record<OpKind, number>>;

/** Plain FTP op weights: plain transfers most, every disruption regularly. */
const PLAIN_WEIGHTS: Weights = {
  put: 6,
  get: 1,
  'put-ascii': 1,
  'put-reset': 2,
  'put-ascii-reset': 1,
  'put-abor': 1,
  'put-stall': 1,
  'get-abor': 1,
  'get-stall': 1,
  'vanish-put': 1,
  'vanish-get': 1,
};

/** FTPS op weights: clean transfers, resets below TLS, and truncations without close_notify. */
const TLS_WEIGHTS: Weights = {
  put: 4,
  get: 2,
  'put-reset': 2,
  'put-fin': 2,
};

function parseOptions(argv: string[]): Options {
  const options: Options = { seconds: 60, clients: 50, maxOps: 100_000, tlsShare: 0.25 };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--seconds') options.seconds = Math.min(Math.max(value, 1), 3600);
    else if (argv[i] === '--clients') options.clients = Math.min(Math.max(Math.floor(value), 1), 1000);
    else if (argv[i] === '--max-ops') options.maxOps = Math.max(Math.floor(value), 1);
    else if (argv[i] === '--tls-share') options.tlsShare = Math.min(Math.max(value, 0), 1);
    else throw new Error(`unknown option ${argv[i]} (use --seconds N --clients N --max-ops N --tls-share 0..1)`);
    i++;
    if (!Number.isFinite(value)) throw new Error(`${argv[i - 1]} needs a number`);
  }
  return options;
}

function picker(weights: Weights): () => OpKind {
  const kinds = OP_KINDS.filter((kind) => (weights[kind] ?? 0) > 0);
  const total = kinds.reduce((sum, kind) => sum + weights[kind]!, 0);
  return () => {
    let r = Math.random() * total;
    for (const kind of kinds) if ((r -= weights[kind]!) < 0) return kind;
    return kinds[0]!;
  };
}

/** Client `i` uses FTPS when it brings the count of FTPS clients up to its share (spread evenly). */
function usesTls(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

/** A row of the per-op table: the op, and whether it ran over FTPS. */
function label(kind: OpKind, tls: boolean): string {
  return tls ? `${kind} (tls)` : kind;
}

const ROWS = [...OP_KINDS.filter((kind) => PLAIN_WEIGHTS[kind]).map((kind) => label(kind, false)), ...OP_KINDS.filter((kind) => TLS_WEIGHTS[kind]).map((kind) => label(kind, true))];

class Tally {
  readonly ops = new Map<string, { ok: number; failed: number }>();
  readonly integrity = new Map<string, number>();
  readonly details: string[] = [];
  protocolFailures = 0;
  /** Complete uploads refused with 426. */
  refusals = 0;
  totalOps = 0;

  op(kind: string, ok: boolean): void {
    const entry = this.ops.get(kind) ?? { ok: 0, failed: 0 };
    if (ok) entry.ok++;
    else entry.failed++;
    this.ops.set(kind, entry);
    this.totalOps++;
  }

  detail(text: string): void {
    if (this.details.length < MAX_DETAILS) this.details.push(text);
  }

  get integrityFailures(): number {
    return [...this.integrity.values()].reduce((a, b) => a + b, 0);
  }
}

/** One client: its own folder and paths, ops until the deadline or the shared op budget runs out. */
async function runClient(name: string, port: number, ledger: Ledger, tally: Tally, deadline: number, maxOps: number, tls: boolean, kinds: () => OpKind): Promise<void> {
  const ctx: OpContext = {
    session: null,
    ledger,
    port,
    user: USER,
    password: PASSWORD,
    paths: [0, 1, 2].map((i) => `/${name}/file${i}.bin`),
    tls,
    integrity: (kind, detail) => {
      tally.integrity.set(kind, (tally.integrity.get(kind) ?? 0) + 1);
      tally.detail(`integrity ${kind}: ${detail}`);
    },
    refused: (detail) => {
      tally.refusals++;
      tally.detail(`refused: ${detail}`);
    },
  };
  try {
    ctx.session = await SoakSession.open(port, USER, PASSWORD, tls);
    await ctx.session.command(`MKD /${name}`, [257]);
  } catch (error) {
    tally.protocolFailures++;
    tally.detail(`${name} setup: ${(error as Error).message}`);
    ctx.session?.vanish();
    return;
  }
  while (Date.now() < deadline && tally.totalOps < maxOps) {
    const kind = kinds();
    try {
      await OPS[kind](ctx);
      tally.op(label(kind, tls), true);
    } catch (error) {
      tally.op(label(kind, tls), false);
      tally.protocolFailures++;
      tally.detail(`${name} ${label(kind, tls)}: ${(error as Error).message}`);
      ctx.session?.vanish();
      ctx.session = null;
      await sleep(200);
    }
    if (ctx.session && ctx.session.stream.framingErrors.length > 0) {
      tally.protocolFailures++;
      tally.detail(`${name}: reply framing: ${ctx.session.stream.framingErrors.join('; ')}`);
      ctx.session.vanish();
      ctx.session = null;
    }
  }
  await ctx.session?.quit();
}

const USER = 'soak';
const PASSWORD = 'soak-' + Math.random().toString(36).slice(2, 10);

/** Waits (bounded) until the server is back to the baseline's descriptors and listeners. */
async function settle(pid: number, baseline: ProcessFigures): Promise<ProcessFigures> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const figures = processFigures(pid);
    if ((figures.fds <= baseline.fds && figures.listeners <= baseline.listeners) || Date.now() >= deadline) return figures;
    await sleep(250);
  }
}

/** Every file under `dir`, as virtual path -> host path. */
function filesBelow(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const virtual = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of filesBelow(join(dir, entry.name), virtual)) out.set(k, v);
    else out.set(virtual, join(dir, entry.name));
  }
  return out;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1) + ' MiB';
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const workDir = mkdtempSync(join(tmpdir(), 'ferry-soak-'));
  let server: Awaited<ReturnType<typeof startFerry>> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let exitCode = 1;
  try {
    const root = join(workDir, 'root');
    mkdirSync(root);
    const certDir = join(workDir, 'certs');
    execFileSync(process.execPath, [resolve('bin/ferry.js'), 'cert', '--out', certDir], { stdio: 'ignore' });
    server = await startFerry({ root, workDir, user: USER, password: PASSWORD, cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem'), maxFiles: 4096 });
    const { pid, port } = server;
    const ledger = new Ledger(8 * 1024 * 1024);
    const tally = new Tally();
    process.stderr.write(`soak: ferry pid ${pid} on 127.0.0.1:${port}; warm-up ${WARMUP_MS / 1000} s\n`);
    // Warm-up: code paths loaded (TLS too), heap grown, pools created; then the baseline.
    const warmDeadline = Date.now() + WARMUP_MS;
    await Promise.all(Array.from({ length: 4 }, (_, i) => runClient(`warm${i}`, port, ledger, tally, warmDeadline, Infinity, options.tlsShare > 0 && i === 0, () => 'put')));
    await sleep(1000);
    const baseline = processFigures(pid);
    const warmOps = tally.totalOps;
    tally.ops.clear();
    tally.totalOps = 0;

    const tlsClients = Array.from({ length: options.clients }, (_, i) => usesTls(i, options.tlsShare));
    process.stderr.write(`soak: ${options.clients} clients (${tlsClients.filter(Boolean).length} FTPS) for ${options.seconds} s (at most ${options.maxOps} ops)\n`);
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    let peak = baseline;
    sampler = setInterval(() => {
      const now = processFigures(pid);
      if (now.fds > peak.fds || now.rssBytes > peak.rssBytes) peak = { fds: Math.max(now.fds, peak.fds), listeners: Math.max(now.listeners, peak.listeners), rssBytes: Math.max(now.rssBytes, peak.rssBytes) };
    }, 500);
    const pickPlain = picker(PLAIN_WEIGHTS);
    const pickTls = picker(TLS_WEIGHTS);
    await Promise.all(tlsClients.map((tls, i) => runClient(`c${i}`, port, ledger, tally, deadline, options.maxOps, tls, tls ? pickTls : pickPlain)));
    clearInterval(sampler);
    const elapsed = (Date.now() - started) / 1000;
    const after = await settle(pid, baseline);

    // The root: no temp file left, every file exactly its committed version.
    const files = filesBelow(root);
    const temps = [...files.keys()].filter((path) => path.split('/').pop()!.startsWith(UPLOAD_TEMP_PREFIX));
    for (const path of temps) tally.detail(`leftover temp file ${path}`);
    const scan = new Map<string, number>();
    for (const path of ledger.paths()) {
      const host = files.get(path);
      const verdict = ledger.classify(path, host ? readFileSync(host) : null);
      if (verdict === 'current') continue;
      scan.set(verdict, (scan.get(verdict) ?? 0) + 1);
      tally.detail(`final scan: ${path} is ${verdict} (${host ? readFileSync(host).length : 'no'} bytes, committed ${ledger.current(path)?.size ?? 'none'})`);
    }
    const strays = [...files.keys()].filter((path) => !temps.includes(path) && ledger.current(path) === null);
    for (const path of strays) tally.detail(`stray file ${path} matches no committed version`);

    const leaks: string[] = [];
    if (after.fds > baseline.fds) leaks.push(`descriptors ${baseline.fds} -> ${after.fds}`);
    if (after.listeners > baseline.listeners) leaks.push(`listening sockets ${baseline.listeners} -> ${after.listeners}`);
    if (after.rssBytes > baseline.rssBytes + RSS_SLACK_BYTES) leaks.push(`RSS ${mib(baseline.rssBytes)} -> ${mib(after.rssBytes)}`);

    const rows: string[][] = [['op', 'ok', 'failed']];
    for (const row of ROWS) {
      const entry = tally.ops.get(row) ?? { ok: 0, failed: 0 };
      rows.push([row, String(entry.ok), String(entry.failed)]);
    }
    rows.push(['total', String([...tally.ops.values()].reduce((a, e) => a + e.ok, 0)), String([...tally.ops.values()].reduce((a, e) => a + e.failed, 0))]);
    const integrityRows = [...new Set([...tally.integrity.keys(), ...scan.keys()])].map((k) => `${k}: ${(tally.integrity.get(k) ?? 0) + (scan.get(k) ?? 0)}`);
    const out = [
      `Ferry soak: ${options.clients} clients (${tlsClients.filter(Boolean).length} FTPS), ${elapsed.toFixed(1)} s, ${tally.totalOps} ops (${warmOps} warm-up ops before the baseline)`,
      '',
      ...rows.map((r) => `  ${r[0]!.padEnd(22)} ${r[1]!.padStart(7)} ${r[2]!.padStart(7)}`),
      '',
      `  protocol failures            ${tally.protocolFailures}`,
      `  clean uploads refused (426)  ${tally.refusals}`,
      `  integrity failures (ops)     ${tally.integrityFailures}${integrityRows.length ? '  [' + integrityRows.join(', ') + ']' : ''}`,
      `  lost/truncated (final scan)  ${[...scan.values()].reduce((a, b) => a + b, 0)} of ${ledger.paths().length} paths`,
      `  leftover temp files          ${temps.length}`,
      `  stray files                  ${strays.length}`,
      '',
      `  ${''.padEnd(14)} ${'baseline'.padStart(10)} ${'peak'.padStart(10)} ${'after'.padStart(10)}`,
      `  ${'descriptors'.padEnd(14)} ${String(baseline.fds).padStart(10)} ${String(peak.fds).padStart(10)} ${String(after.fds).padStart(10)}`,
      `  ${'listeners'.padEnd(14)} ${String(baseline.listeners).padStart(10)} ${String(peak.listeners).padStart(10)} ${String(after.listeners).padStart(10)}`,
      `  ${'RSS'.padEnd(14)} ${mib(baseline.rssBytes).padStart(10)} ${mib(peak.rssBytes).padStart(10)} ${mib(after.rssBytes).padStart(10)}`,
      `  leaks: ${leaks.length ? leaks.join('; ') : 'none'} (RSS slack ${mib(RSS_SLACK_BYTES)})`,
      ...(tally.details.length ? ['', 'first findings:', ...tally.details.map((d) => '  ' + d)] : []),
    ];
    process.stdout.write(out.join('\n') + '\n');
    const bad = tally.integrityFailures + scan.size + temps.length + strays.length + leaks.length + tally.protocolFailures + tally.refusals;
    exitCode = bad > 0 ? 1 : 0;
  } finally {
    clearInterval(sampler);
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

void main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
