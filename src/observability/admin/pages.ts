/**
 * The web admin's HTML, rendered on the server. Every string that comes from a client
 * (user names, file names, commands) goes through escapeHtml. The rows are also
 * rendered empty in <template>s, which /admin.js fills when it polls (with textContent,
 * never as HTML), so the layout of a row lives here only.
 */
import type { BanView, SessionView, StatsView } from './views.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** The cells of a session row, as /admin.js also computes them from /api/sessions. */
function sessionFields(session: SessionView | null): Record<string, string> {
  return {
    id: session?.id ?? '',
    user: session?.user ?? '',
    remoteAddress: session?.remoteAddress ?? '',
    tls: session ? (session.tls ? 'yes' : 'no') : '',
    command: session?.command ?? '',
    path: session?.transfer?.path ?? '',
    bytes: session?.transfer ? String(session.transfer.bytes) : '',
    speed: session?.transfer ? String(session.transfer.speed) : '',
  };
}

const SESSION_COLUMNS: ReadonlyArray<[field: string, heading: string]> = [
  ['id', 'Session'],
  ['user', 'User'],
  ['remoteAddress', 'Address'],
  ['tls', 'TLS'],
  ['command', 'Command'],
  ['path', 'Transfer'],
  ['bytes', 'Bytes'],
  ['speed', 'B/s'],
];

const STATS: ReadonlyArray<[key: keyof StatsView, label: string]> = [
  ['uptimeSeconds', 'Uptime (s)'],
  ['sessions', 'Sessions'],
  ['transfersRunning', 'Transfers running'],
  ['transfersFinished', 'Transfers finished'],
  ['bytes', 'Bytes transferred'],
  ['bannedAddresses', 'Banned addresses'],
];

function cells(fields: Record<string, string>, columns: ReadonlyArray<[string, string]>): string {
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

function sessionRow(session: SessionView | null, csrf: string): string {
  const id = session?.id ?? '';
  return `<tr data-session="${escapeHtml(id)}">${cells(sessionFields(session), SESSION_COLUMNS)}${actionButton(kickPath(id), 'Kick', csrf)}</tr>`;
}

const BAN_COLUMNS: ReadonlyArray<[string, string]> = [
  ['address', 'Address'],
  ['until', 'Banned until'],
];

function banRow(ban: BanView | null, csrf: string): string {
  const address = ban?.address ?? '';
  return `<tr data-ban="${escapeHtml(address)}">${cells({ address, until: ban?.until ?? '' }, BAN_COLUMNS)}${actionButton(unbanPath(address), 'Unban', csrf)}</tr>`;
}

function headings(columns: ReadonlyArray<[string, string]>): string {
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
  csrf: string;
  who: string;
}

export function dashboardPage({ stats, sessions, bans, csrf, who }: DashboardData): string {
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
<table>${headings(SESSION_COLUMNS)}<tbody id="sessions">${sessions.map((session) => sessionRow(session, csrf)).join('')}</tbody></table>
<template id="session-row">${sessionRow(null, csrf)}</template>
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
