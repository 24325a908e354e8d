/**
 * The bench's printed report: three Markdown tables with one column per server (the
 * results with Ferry / best peer; the server's cost per unit of work; the client's CPU and
 * what limited the run), then the notes the workloads left.
 */
import type { ServerSummary, versusBestPeer } from './summary.js';
import type { ServerName } from './types.js';

export interface ReportRow {
  workload: string;
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  costUnit: string;
  servers: Partial<Record<ServerName, ServerSummary | null>>;
  versus: ReturnType<typeof versusBestPeer>;
}

export function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function reportTables(rows: ReportRow[], servers: ServerName[]): string[] {
  const cell = (row: ReportRow, name: ServerName, show: (s: ServerSummary) => string) => {
    const summary = row.servers[name];
    return summary ? show(summary) : '–';
  };
  const optional = (value: number | undefined) => (value === undefined ? '–' : fmt(value));
  const ratio = (row: ReportRow) => (row.versus ? `${row.versus.ratio.toFixed(2)}× ${row.versus.peer}${row.higherIsBetter ? '' : ' (lower is better)'}` : '–');
  const results = table(
    ['workload', 'metric (unit)', ...servers.map((n) => `${n} median (min–max)`), 'Ferry / best peer'],
    rows.map((row) => [row.workload, `${row.metric} (${row.unit})`, ...servers.map((n) => cell(row, n, (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`)), ratio(row)]),
  );
  const cost = table(
    ['workload', 'server cost', ...servers],
    rows.map((row) => [row.workload, row.costUnit, ...servers.map((n) => cell(row, n, (s) => optional(s.serverCost)))]),
  );
  const client = table(
    ['workload', ...servers.map((n) => `${n}: client CPU s, limit`)],
    rows.map((row) => [row.workload, ...servers.map((n) => cell(row, n, (s) => `${optional(s.clientCpu)}, ${s.limit}`))]),
  );
  const notes = rows.flatMap((row) => servers.flatMap((n) => (row.servers[n]?.notes.length ? [`- ${row.workload} (${n}): ${row.servers[n]!.notes.join('; ')}`] : [])));
  return [
    ...results,
    '',
    'Server cost per unit of work (median; CPU of the whole process tree, reaped session processes included):',
    '',
    ...cost,
    '',
    'Client CPU (median) and what limited the runs (client: the client used ≥ 90 % of a core; machine: server + client used ≥ 90 % of all cores; busy: the machine was ≥ 90 % busy with other processes; -: none of these):',
    '',
    ...client,
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ];
}
