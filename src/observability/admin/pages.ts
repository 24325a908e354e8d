/**
 * The web admin's HTML, rendered on the server. Every string that comes from a client
 * (user names, file names, commands) goes through escapeHtml. The rows are also
 * rendered empty in <template>s, which /admin.js fills when it polls (with textContent,
 * never as HTML), so the layout of a row lives here only.
 */
import type { BanView, SessionView, StatsView, WorkerTag } from './views.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** "0 (pid 1234)", as /admin.js also writes it. */
function workerText(worker: WorkerTag | null | undefined): string {
  return worker ? `${worker.index} (pid ${worker.pid})` : '';
}

/** The cells of a session row, as /admin.js also computes them from /api/sessions. */
function sessionFields(session: SessionView | null): Record<string, string> {
  return {
    id: session?.id ?? '',
    worker: workerText(session?.worker),
    user: session?.user ?? '',
    remoteAddress: session?.remoteAddress ?? '',
    tls: session ? (session.tls ? 'yes' : 'no') : '',
    command: session?.command ?? '',
    path: session?.transfer?.path ?? '',
    bytes: session?.transfer ? String(session.transfer.bytes) : '',
    speed: session?.transfer ? String(session.transfer.speed) : '',
  };
}

type Columns = ReadonlyArray<[field: string, heading: string]>;

const SESSION_COLUMNS: Columns = [
  ['id', 'Session'],
  ['user', 'User'],
  ['remoteAddress', 'Address'],
  ['tls', 'TLS'],
  ['command', 'Command'],
  ['path', 'Transfer'],
  ['bytes', 'Bytes'],
  ['speed', 'B/s'],
];

/** With workers = N, which worker each session is on, after its id. */
function sessionColumns(perWorker: boolean): Columns {
  return perWorker ? [SESSION_COLUMNS[0]!, ['worker', 'Worker'], ...SESSION_COLUMNS.slice(1)] : SESSION_COLUMNS;
}

const STATS: ReadonlyArray<[key: keyof StatsView, label: string]> = [
  ['uptimeSeconds', 'Uptime (s)'],
  ['sessions', 'Sessions'],
  ['transfersRunning', 'Transfers running'],
  ['transfersFinished', 'Transfers finished'],
  ['bytes', 'Bytes transferred'],
  ['bannedAddresses', 'Banned addresses'],
];

function cells(fields: Record<string, string>, columns: Columns): string {
  return columns.map(([field]) => `<td data-field="${field}">${escapeHtml(fields[field]!)}</td>`).join('');
}

function actionButton(action: string, label: string, csrf: string): string {
  return `<td><form method="post" action="${escapeHtml(action)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">${label}</button></form></td>`;
}

export function kickPath(id: string): string {
  return `/sessions/${encodeURIComponent(id)}/kick`;
}

export function unbanPath(address: string): string {
  return `/bans/${encodeURIComponent(address)}/unban`;
}

function sessionRow(session: SessionView | null, columns: Columns, csrf: string): string {
  const id = session?.id ?? '';
  return `<tr data-session="${escapeHtml(id)}">${cells(sessionFields(session), columns)}${actionButton(kickPath(id), 'Kick', csrf)}</tr>`;
}

const BAN_COLUMNS: Columns = [
  ['address', 'Address'],
  ['until', 'Banned until'],
];

function banRow(ban: BanView | null, csrf: string): string {
  const address = ban?.address ?? '';
  return `<tr data-ban="${escapeHtml(address)}">${cells({ address, until: ban?.until ?? '' }, BAN_COLUMNS)}${actionButton(unbanPath(address), 'Unban', csrf)}</tr>`;
}

function headings(columns: Columns): string {
  return `<thead><tr>${columns.map(([, heading]) => `<th>${heading}</th>`).join('')}<th></th></tr></thead>`;
}

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/admin.css">
${head}</head>
<body>
${body}
</body>
</html>
`;
}

export function loginPage(message: string | null): string {
  return page(
    'Ferry admin: log in',
    `<main class="login">
<h1>Ferry admin</h1>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login">
<label>User <input name="user" autocomplete="username"></label>
<label>Password or token <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
</main>`,
  );
}

export interface DashboardData {
  stats: StatsView;
  sessions: SessionView[];
  bans: BanView[];
  /** Sessions carry their worker (workers = N). */
  perWorker: boolean;
  csrf: string;
  who: string;
}

export function dashboardPage({ stats, sessions, bans, perWorker, csrf, who }: DashboardData): string {
  const columns = sessionColumns(perWorker);
  return page(
    'Ferry admin',
    `<header>
<h1>Ferry admin</h1>
<form method="post" action="/logout"><span>${escapeHtml(who)}</span> <button type="submit">Log out</button></form>
</header>
<main>
<section>
<h2>Server</h2>
<dl id="stats">${STATS.map(([key, label]) => `<div><dt>${label}</dt><dd data-stat="${key}">${stats[key]}</dd></div>`).join('')}</dl>
</section>
<section>
<h2>Sessions</h2>
<table>${headings(columns)}<tbody id="sessions">${sessions.map((session) => sessionRow(session, columns, csrf)).join('')}</tbody></table>
<template id="session-row">${sessionRow(null, columns, csrf)}</template>
</section>
<section>
<h2>Bans</h2>
<table>${headings(BAN_COLUMNS)}<tbody id="bans">${bans.map((ban) => banRow(ban, csrf)).join('')}</tbody></table>
<template id="ban-row">${banRow(null, csrf)}</template>
</section>
</main>`,
    `<meta name="csrf-token" content="${escapeHtml(csrf)}">\n<script src="/admin.js" defer></script>\n`,
  );
}
