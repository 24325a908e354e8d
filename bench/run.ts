/**
 * `npm run bench`: Ferry side by side with vsftpd (when installed) on the same machine in
 * the same run. Servers alternate run by run; each workload is repeated (median, min,
 * max) and reported as Ferry/vsftpd ratios, printed as a table and written as JSON.
 *
 *   npm run bench                 # full run (1 GiB files, 10 s load phases, 3 repetitions)
 *   npm run bench -- --quick      # smaller files and shorter phases, for a smoke check
 *   npm run bench -- --only retr_big,login_rate --reps 5
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startFerry } from './ferry-server.js';
import { startVsftpd, vsftpdVersion } from './vsftpd-server.js';
import type { BenchServer, ServerSetup } from './types.js';
import { WORKLOADS, prepareData, type Measurement, type WorkloadContext } from './workloads.js';

interface Options {
  quick: boolean;
  reps: number;
  only: string[] | null;
  out: string;
  idleMax: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, reps: 3, only: null, out: 'bench/results/latest.json', idleMax: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--reps') options.reps = Math.max(1, Math.min(10, Number(argv[++i])));
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',');
    else if (arg === '--out') options.out = argv[++i] ?? options.out;
    else if (arg === '--idle-max') options.idleMax = Number(argv[++i]);
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
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

  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    vsftpd: vsftpdVersion(),
    curl: tool('curl', ['--version']),
    date: new Date().toISOString(),
  };
  process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

  const servers: BenchServer[] = [await startFerry(setup)];
  try {
    servers.push(await startVsftpd(setup));
  } catch (error) {
    process.stderr.write(`vsftpd not available (${(error as Error).message}); measuring Ferry alone\n`);
  }

  const context: WorkloadContext = { setup, quick: options.quick, bigBytes, idleMax: options.idleMax };
  const results: Array<{ workload: string; metric: string; unit: string; higherIsBetter: boolean; runs: Record<string, Measurement[]> }> = [];
  try {
    for (const workload of WORKLOADS) {
      if (options.only && !options.only.includes(workload.name)) continue;
      const runs: Record<string, Measurement[]> = {};
      for (let rep = 0; rep < options.reps; rep++) {
        // Alternate which server goes first, so neither always gets the warmer cache.
        const order = rep % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          if (!workload.supports(server)) continue;
          process.stderr.write(`${workload.name} rep ${rep + 1}/${options.reps} on ${server.name}… `);
          const measurement = await workload.run(server, context);
          process.stderr.write(`${fmt(measurement.value)} ${workload.unit}\n`);
          (runs[server.name] ??= []).push(measurement);
        }
      }
      results.push({ workload: workload.name, metric: workload.metric, unit: workload.unit, higherIsBetter: workload.higherIsBetter, runs });
    }
  } finally {
    for (const server of servers) await server.stop();
  }

  const rows = results.map((result) => {
    const summary = (name: string) => {
      const values = result.runs[name]?.map((m) => m.value) ?? [];
      if (values.length === 0) return null;
      const cpu = result.runs[name]!.map((m) => m.serverCpuSeconds).filter((v): v is number => v !== undefined);
      const clientCpu = result.runs[name]!.map((m) => m.clientCpuSeconds).filter((v): v is number => v !== undefined);
      return { median: median(values), min: Math.min(...values), max: Math.max(...values), serverCpu: cpu.length ? median(cpu) : undefined, clientCpu: clientCpu.length ? median(clientCpu) : undefined, notes: result.runs[name]!.map((m) => m.note).filter(Boolean) };
    };
    const ferry = summary('ferry');
    const vsftpd = summary('vsftpd');
    const ratio = ferry && vsftpd && vsftpd.median > 0 ? ferry.median / vsftpd.median : null;
    return { ...result, ferry, vsftpd, ratio };
  });

  const lines = [
    `| workload | metric | Ferry median (min–max) | vsftpd median (min–max) | Ferry/vsftpd | server CPU s (Ferry / vsftpd) | client CPU s (Ferry / vsftpd) |`,
    `|---|---|---|---|---|---|---|`,
    ...rows.map((row) => {
      const show = (s: typeof row.ferry) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–');
      const cpu = (s: typeof row.ferry, key: 'serverCpu' | 'clientCpu') => (s?.[key] === undefined ? '–' : fmt(s[key]!));
      const ratio = row.ratio === null ? '–' : `${row.ratio.toFixed(2)}×${row.higherIsBetter ? '' : ' (lower is better)'}`;
      return `| ${row.workload} | ${row.metric} (${row.unit}) | ${show(row.ferry)} | ${show(row.vsftpd)} | ${ratio} | ${cpu(row.ferry, 'serverCpu')} / ${cpu(row.vsftpd, 'serverCpu')} | ${cpu(row.ferry, 'clientCpu')} / ${cpu(row.vsftpd, 'clientCpu')} |`;
    }),
  ];
  const notes = rows.flatMap((row) =>
    (['ferry', 'vsftpd'] as const).flatMap((name) => {
      const list = row[name]?.notes ?? [];
      return list.length > 0 ? [`- ${row.workload} (${name}): ${[...new Set(list)].join('; ')}`] : [];
    }),
  );
  if (notes.length > 0) lines.push('', 'Notes:', ...notes);
  const report = [`Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.vsftpd}, ${machine.curl}`, `Repetitions: ${options.reps}${options.quick ? ' (quick mode)' : ''}; date ${machine.date}`, '', ...lines];
  process.stdout.write(report.join('\n') + '\n');
  mkdirSync(resolve(options.out, '..'), { recursive: true });
  writeFileSync(options.out, JSON.stringify({ machine, options, results: rows }, null, 2) + '\n');
  process.stderr.write(`wrote ${options.out}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
