/**
 * `npm run bench`: Ferry side by side with its peers on the same machine in the same
 * run: vsftpd (when installed) and ProFTPD and Pure-FTPd (Debian's packages unpacked by
 * `npm run fetch:peers`, as the client tests use them). Runs are interleaved: each round
 * runs every workload once on every server, in an order that rotates round by round. A
 * peer that cannot start is reported missing. Prints tables (median, min–max, Ferry /
 * best peer, server cost per unit of work, client CPU, what limited the run) and writes JSON.
 *
 *   npm run bench                 # full run (1 GiB files, 10 s load phases, 3 rounds)
 *   npm run bench -- --quick      # smaller files, shorter phases, 2 rounds (idle_1000 once, no idle_10000): a smoke check
 *   npm run bench -- --only retr_big,login_rate --reps 5 --servers ferry,pureftpd
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startFerry } from './ferry-server.js';
import { proftpdVersion, startProftpdBench } from './proftpd-server.js';
import { pureftpdVersion, startPureftpdBench } from './pureftpd-server.js';
import { fmt, reportTables, type ReportRow } from './report.js';
import { summarize, versusBestPeer } from './summary.js';
import { startVsftpd, vsftpdVersion } from './vsftpd-server.js';
import { SERVER_NAMES, type BenchServer, type ServerName, type ServerSetup } from './types.js';
import { WORKLOADS, prepareData, type Measurement, type WorkloadContext } from './workloads.js';

interface Options {
  quick: boolean;
  reps: number;
  only: string[] | null;
  servers: ServerName[];
  out: string;
  idleMax: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, reps: 0, only: null, servers: [...SERVER_NAMES], out: 'bench/results/latest.json', idleMax: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--reps') options.reps = Math.max(1, Math.min(10, Number(argv[++i])));
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',');
    else if (arg === '--servers') {
      const names = (argv[++i] ?? '').split(',');
      const unknown = names.filter((n) => !(SERVER_NAMES as readonly string[]).includes(n));
      if (unknown.length) throw new Error(`unknown server ${unknown.join(', ')} (known: ${SERVER_NAMES.join(', ')})`);
      options.servers = SERVER_NAMES.filter((n) => names.includes(n));
    } else if (arg === '--out') options.out = argv[++i] ?? options.out;
    else if (arg === '--idle-max') options.idleMax = Number(argv[++i]);
    else throw new Error(`unknown option ${arg}`);
  }
  if (options.reps === 0) options.reps = options.quick ? 2 : 3;
  return options;
}

const STARTERS: Record<ServerName, (setup: ServerSetup) => Promise<BenchServer>> = {
  ferry: startFerry,
  vsftpd: startVsftpd,
  proftpd: startProftpdBench,
  pureftpd: startPureftpdBench,
};

/** Starts the selected servers; a peer that cannot start is recorded as missing (Ferry must start). */
async function startServers(names: ServerName[], setup: ServerSetup): Promise<{ servers: BenchServer[]; missing: Partial<Record<ServerName, string>> }> {
  const servers: BenchServer[] = [];
  const missing: Partial<Record<ServerName, string>> = {};
  for (const name of names) {
    try {
      servers.push(await STARTERS[name](setup));
    } catch (error) {
      if (name === 'ferry') {
        for (const server of servers) await server.stop();
        throw error;
      }
      missing[name] = (error as Error).message.split('\n')[0]!;
      process.stderr.write(`${name} not available: ${missing[name]}\n`);
    }
  }
  return { servers, missing };
}

function tool(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const workDir = resolve('.bench');
  const root = join(workDir, 'root');
  mkdirSync(root, { recursive: true });
  const certDir = join(workDir, 'certs');
  if (!existsSync(join(certDir, 'cert.pem'))) execFileSync(process.execPath, [resolve('bin/ferry.js'), 'cert', '--out', certDir], { stdio: 'ignore' });
  const setup: ServerSetup = {
    root,
    workDir,
    user: 'ferrybench',
    password: 'bench-' + Math.random().toString(36).slice(2, 10),
    cert: join(certDir, 'cert.pem'),
    key: join(certDir, 'key.pem'),
    maxFiles: 20_000,
  };
  const bigBytes = options.quick ? 256 * 1024 * 1024 : 1024 * 1024 * 1024;
  process.stderr.write(`preparing data in ${root} (${bigBytes / 1024 / 1024} MiB file)…\n`);
  await prepareData(root, bigBytes);

  const cores = cpus().length;
  const machine = {
    cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    vsftpd: vsftpdVersion(),
    proftpd: proftpdVersion(),
    pureftpd: pureftpdVersion(),
    curl: tool('curl', ['--version']),
    date: new Date().toISOString(),
  };
  process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

  const started = Date.now();
  const { servers, missing } = await startServers(options.servers, setup);
  const context: WorkloadContext = { setup, quick: options.quick, bigBytes, idleMax: options.idleMax };
  const workloads = WORKLOADS.filter((w) => (options.only ? options.only.includes(w.name) : !(options.quick && w.quickRounds === 0)));
  const runs = new Map<string, Partial<Record<ServerName, Measurement[]>>>(workloads.map((w) => [w.name, {}]));
  try {
    for (let round = 0; round < options.reps; round++) {
      for (const [index, workload] of workloads.entries()) {
        if (options.quick && round >= (workload.quickRounds || Infinity)) continue;
        // The order rotates round by round (and workload by workload), so no server always gets the warmer cache or the quieter moment.
        const shift = (round + index) % servers.length;
        for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
          if (!workload.supports(server)) continue;
          process.stderr.write(`round ${round + 1}/${options.reps} ${workload.name} on ${server.name}… `);
          const measurement = await workload.run(server, context);
          process.stderr.write(`${fmt(measurement.value)} ${workload.unit}\n`);
          (runs.get(workload.name)![server.name] ??= []).push(measurement);
        }
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const elapsedSeconds = Math.round((Date.now() - started) / 1000);

  const names = servers.map((s) => s.name);
  const rows: Array<ReportRow & { runs: Partial<Record<ServerName, Measurement[]>> }> = workloads.map((workload) => {
    const byServer = runs.get(workload.name)!;
    const summaries = Object.fromEntries(names.map((n) => [n, summarize(byServer[n], cores)]));
    const { name, metric, unit, higherIsBetter, costUnit } = workload;
    return { workload: name, metric, unit, higherIsBetter, costUnit, servers: summaries, versus: versusBestPeer(summaries, higherIsBetter), runs: byServer };
  });

  const missingLines = Object.entries(missing).map(([name, reason]) => `- ${name} missing: ${reason}`);
  const report = [
    `Machine: ${cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.vsftpd}, ${machine.proftpd}, ${machine.pureftpd}, ${machine.curl}`,
    `Rounds: ${options.reps}${options.quick ? ' (quick mode)' : ''}; date ${machine.date}; took ${elapsedSeconds} s`,
    ...(missingLines.length ? ['', ...missingLines] : []),
    '',
    ...reportTables(rows, names),
  ];
  process.stdout.write(report.join('\n') + '\n');
  mkdirSync(resolve(options.out, '..'), { recursive: true });
  writeFileSync(options.out, JSON.stringify({ machine, options, elapsedSeconds, missing, results: rows }, null, 2) + '\n');
  process.stderr.write(`wrote ${options.out}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
