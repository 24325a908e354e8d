/**
 * The benchmark workloads. Single streams use curl; concurrent ones use the load driver
 * (a separate process). Each measurement carries the server's CPU seconds and the
 * client's, so a reader can tell whether the client was the bottleneck.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds, machineJiffies, memoryUse } from './proc.js';
import type { BenchServer, ServerSetup } from './types.js';

export interface Measurement {
  value: number;
  serverCpuSeconds?: number;
  clientCpuSeconds?: number;
  /** Wall-clock seconds of the work the CPU figures are for. */
  wallSeconds?: number;
  /** What the server spent per unit of work, in the workload's `costUnit`. */
  serverCost?: number;
  /** Cores the whole machine kept busy meanwhile: every process, ours or another's. */
  machineBusyCores?: number;
  note?: string;
}

export interface WorkloadContext {
  setup: ServerSetup;
  quick: boolean;
  bigBytes: number;
  idleMax: number;
}

export interface Workload {
  name: string;
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  /** The unit of Measurement.serverCost. */
  costUnit: string;
  /** Rounds of a --quick run that include it (default: all; 0: left out unless named with --only). */
  quickRounds?: number;
  supports(server: BenchServer): boolean;
  run(server: BenchServer, context: WorkloadContext): Promise<Measurement>;
}

const BIG = 'big.bin';
const SMALL = 'small-16k.bin';

/** The test files: one big random file and one 16 KiB file, made once. */
export async function prepareData(root: string, bigBytes: number): Promise<void> {
  const big = join(root, BIG);
  if (!existsSync(big) || statSync(big).size !== bigBytes) {
    const fd = openSync(big, 'w');
    const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
    for (let written = 0; written < bigBytes; written += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, bigBytes - written));
    }
    closeSync(fd);
  }
  writeFileSync(join(root, SMALL), randomFillSync(Buffer.alloc(16 * 1024)));
  mkdirSync(join(root, 'uploads'), { recursive: true });
  // Every server's FTP user (each peer runs as its own) writes here; mkdir's mode is masked by the umask.
  chmodSync(join(root, 'uploads'), 0o777);
}

/** CPU seconds of children this process has reaped (curl, the load driver). */
function reapedChildCpu(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Starts timing a span of work: `end()` gives its wall-clock seconds and the cores the whole machine kept busy meanwhile. */
function machineLoad(): { end(): { wallSeconds: number; machineBusyCores: number } } {
  const started = process.hrtime.bigint();
  const before = machineJiffies();
  return {
    end() {
      const after = machineJiffies();
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { wallSeconds, machineBusyCores: ((after.busy - before.busy) / Math.max(after.total - before.total, 1)) * cpus().length };
    },
  };
}

/** curl reads the login from a netrc file, so no password appears in the process list. */
function netrcFile(setup: ServerSetup, server: BenchServer): string {
  const path = join(setup.workDir, `netrc-${server.name}`);
  writeFileSync(path, `machine 127.0.0.1 login ${server.user} password ${server.password}\n`, { mode: 0o600 });
  return path;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

function curlTransfer(upload: boolean, tls: boolean): Workload['run'] {
  return async (server, { setup, bigBytes }) => {
    const remote = upload ? `uploads/up-${server.name}-${Date.now()}.bin` : BIG;
    const args = ['-sS', '--netrc-file', netrcFile(setup, server), '-w', upload ? '%{speed_upload}' : '%{speed_download}'];
    if (tls) args.push('--ssl-reqd', '-k');
    if (upload) args.push('-T', join(setup.root, BIG));
    else args.push('-o', '/dev/null');
    args.push(`ftp://127.0.0.1:${server.port}/${remote}`);
    // Dirty pages from the previous upload would be written back during this run:
    // flush them first, so every run starts from the same state.
    spawnSync('sync');
    await settle();
    const cpuBefore = cpuSeconds(server.pid);
    const clientBefore = reapedChildCpu();
    const load = machineLoad();
    const result = spawnSync('curl', args, { encoding: 'utf8', timeout: 600_000 });
    const span = load.end();
    // vsftpd's session processes count once they have exited and been reaped.
    await settle();
    const serverCpu = cpuSeconds(server.pid) - cpuBefore;
    const clientCpu = reapedChildCpu() - clientBefore;
    if (upload) rmSync(join(setup.root, remote), { force: true });
    if (result.status !== 0) throw new Error(`curl failed (${result.status}): ${result.stderr}`);
    return { value: Number(result.stdout) / 1e6, serverCpuSeconds: serverCpu, clientCpuSeconds: clientCpu, ...span, serverCost: serverCpu / (bigBytes / 2 ** 30) };
  };
}

interface DriverResult extends Record<string, number | boolean | string | undefined> {
  clientCpuSeconds?: number;
  error?: string;
}

/** Runs the load driver; `onReady` runs each time an idle workload reports its sessions are open. */
async function runDriver(args: Record<string, unknown>, maxFiles: number, onReady?: (ready: DriverResult) => Promise<void>): Promise<DriverResult> {
  const script = resolve('dist/bench/load-driver.js');
  const child = spawn('bash', ['-c', `ulimit -n ${maxFiles}; exec "${process.execPath}" "${script}" '${JSON.stringify(args)}'`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let final: DriverResult | null = null;
  for await (const line of lines) {
    const parsed = JSON.parse(line) as DriverResult;
    if (parsed.ready && onReady) {
      await onReady(parsed);
      child.stdin!.write('next\n');
    } else final = parsed;
  }
  if (!final || final.error) throw new Error(`load driver failed: ${final?.error ?? 'no result'}`);
  return final;
}

/**
 * A timed load phase of the driver against `server`: the rate it reports, with both
 * sides' CPU over the driver's whole run (its logins included) and the server's CPU
 * per unit counted (`countKey`).
 */
async function loadPhase(server: BenchServer, context: WorkloadContext, args: Record<string, unknown>, rateKey: string, countKey: string): Promise<Measurement> {
  const before = cpuSeconds(server.pid);
  const load = machineLoad();
  const result = await runDriver(
    { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, durationMs: context.quick ? 3000 : 10_000, ...args },
    context.setup.maxFiles,
  );
  const span = load.end();
  const serverCpu = cpuSeconds(server.pid) - before;
  return {
    value: result[rateKey] as number,
    serverCpuSeconds: serverCpu,
    clientCpuSeconds: result.clientCpuSeconds,
    ...span,
    serverCost: (serverCpu / Math.max(result[countKey] as number, 1)) * 1e6,
    note: result.errors ? `${result.errors} errors` : undefined,
  };
}

function manySmall(sessions: number): Workload {
  return {
    name: `many_small_${sessions}`,
    metric: `${sessions} sessions, PASV+RETR 16 KiB`,
    unit: 'transfers/s',
    higherIsBetter: true,
    costUnit: 'CPU µs/transfer',
    supports: () => true,
    run: (server, context) => loadPhase(server, context, { workload: 'many_small', sessions, file: SMALL }, 'transfersPerSecond', 'transfers'),
  };
}

const loginRate: Workload = {
  name: 'login_rate',
  metric: '20 loops of connect+USER+PASS+QUIT',
  unit: 'logins/s',
  higherIsBetter: true,
  costUnit: 'CPU µs/login',
  supports: () => true,
  run: (server, context) => loadPhase(server, context, { workload: 'login_rate', sessions: 20 }, 'loginsPerSecond', 'logins'),
};

function idleSessions(sessions: number): Workload {
  return {
    name: `idle_${sessions}`,
    metric: `${sessions} logged-in idle sessions, memory per session (PSS)`,
    unit: 'KiB/session',
    higherIsBetter: false,
    // The memory itself is the cost of an idle session.
    costUnit: 'KiB/session (PSS)',
    // A quick run measures 1,000 sessions once: its slope varies little round to round, and
    // opening them takes ProFTPD a minute or more. Above 1,000 sessions Ferry runs alone:
    // nothing to compare with in a smoke check.
    quickRounds: sessions > 1000 ? 0 : 1,
    // The peers fork per session (vsftpd and Pure-FTPd two processes each): 10,000 sessions would be 10,000 to 20,000 processes.
    supports: (server) => server.name === 'ferry' || sessions <= 1000,
    async run(server, { setup, idleMax }) {
      if (sessions > idleMax) throw new Error(`idle_${sessions} is above --idle-max`);
      // Measured as a slope: memory at N sessions minus memory at N/10, over the sessions
      // added, so neither the server's baseline nor its garbage collector skews it.
      const steps = [sessions / 10, sessions];
      const measured: Array<{ sessions: number; memory: ReturnType<typeof memoryUse> }> = [];
      const result = await runDriver(
        { workload: 'idle_sessions', host: '127.0.0.1', port: server.port, user: server.user, password: server.password, sessions, steps, durationMs: 180_000 },
        setup.maxFiles,
        async (ready) => {
          await new Promise((r) => setTimeout(r, 1000));
          measured.push({ sessions: ready.sessions as number, memory: memoryUse(server.pid) });
        },
      );
      // Let the server notice the closed sessions before the next run.
      await new Promise((r) => setTimeout(r, 1500));
      const [low, high] = measured as [(typeof measured)[number], (typeof measured)[number]];
      const perSession = (high.memory.pssBytes - low.memory.pssBytes) / Math.max(high.sessions - low.sessions, 1) / 1024;
      return {
        value: perSession,
        serverCost: perSession,
        clientCpuSeconds: result.clientCpuSeconds,
        note: `${high.sessions}/${sessions} sessions accepted; ${high.memory.processes} processes; RSS ${(high.memory.rssBytes / 2 ** 20).toFixed(0)} MiB, PSS ${(high.memory.pssBytes / 2 ** 20).toFixed(0)} MiB in total`,
      };
    },
  };
}

export const WORKLOADS: Workload[] = [
  { name: 'retr_big', metric: 'one RETR of the big file, passive, binary', unit: 'MB/s', higherIsBetter: true, costUnit: 'CPU s/GiB', supports: () => true, run: curlTransfer(false, false) },
  { name: 'stor_big', metric: 'one STOR of the big file', unit: 'MB/s', higherIsBetter: true, costUnit: 'CPU s/GiB', supports: () => true, run: curlTransfer(true, false) },
  { name: 'retr_big_tls', metric: 'RETR over explicit FTPS, PROT P', unit: 'MB/s', higherIsBetter: true, costUnit: 'CPU s/GiB', supports: () => true, run: curlTransfer(false, true) },
  { name: 'stor_big_tls', metric: 'STOR over explicit FTPS, PROT P', unit: 'MB/s', higherIsBetter: true, costUnit: 'CPU s/GiB', supports: () => true, run: curlTransfer(true, true) },
  manySmall(50),
  manySmall(200),
  loginRate,
  idleSessions(1000),
  idleSessions(10_000),
];
