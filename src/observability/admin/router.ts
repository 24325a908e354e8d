/**
 * The web admin's routes. Pages: GET /login, POST /login, POST /logout, GET / (the
 * dashboard), and the forms its buttons post (POST /sessions/ID/kick, POST
 * /bans/ADDRESS/unban, answered with a redirect to /). JSON API: GET /api/sessions,
 * /api/bans, /api/stats; POST /api/sessions/ID/kick; POST /api/bans/ADDRESS/unban (or
 * DELETE /api/bans/ADDRESS). A page without login redirects to /login, the API answers 401.
 * Changes need the token as Bearer, or the login cookie plus its CSRF token (form field
 * "csrf" or header X-CSRF-Token).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ADMIN_SCRIPT, ADMIN_STYLES } from './assets.js';
import { AdminAuth, type AdminCredentials, type Principal } from './auth.js';
import { readForm, redirect, send, sendHtml, sendJson } from './http.js';
import { dashboardPage, loginPage } from './pages.js';
import type { AdminData } from './views.js';

export interface WebAdminOptions {
  credentials: AdminCredentials;
  /** This process's sessions and bans, or (workers = N) every worker's. */
  data: AdminData;
  logger: Logger;
}

/** What a route does once the request is authorized. */
type Action = { kind: 'kick'; id: string } | { kind: 'unban'; address: string };

/** Path segments, each percent-decoded (an IPv6 ban is "2001:db8::/64", sent as one segment); null when one does not decode. */
function segments(path: string): string[] | null {
  try {
    return path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}

/** The kick or unban a POST (or DELETE) path asks for, under `/api` or not. */
function actionOf(method: string, parts: readonly string[]): Action | null {
  const [table, key, verb] = parts;
  if (key === undefined || key === '') return null;
  if (method === 'POST' && table === 'sessions' && verb === 'kick' && parts.length === 3) return { kind: 'kick', id: key };
  if (method === 'POST' && table === 'bans' && verb === 'unban' && parts.length === 3) return { kind: 'unban', address: key };
  if (method === 'DELETE' && table === 'bans' && parts.length === 2) return { kind: 'unban', address: key };
  return null;
}

function remoteOf(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

export class WebAdmin {
  private readonly auth: AdminAuth;
  private readonly data: AdminData;
  private readonly logger: Logger;

  constructor(options: WebAdminOptions) {
    this.logger = options.logger.child({ component: 'web-admin' });
    this.auth = new AdminAuth(options.credentials, this.logger);
    this.data = options.data;
  }

  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? 'GET';
    const parts = segments(path);
    if (!parts) return sendJson(response, 400, { error: 'malformed path' });
    if (method === 'GET' && path === '/admin.js') return send(response, 200, 'text/javascript; charset=utf-8', ADMIN_SCRIPT);
    if (method === 'GET' && path === '/admin.css') return send(response, 200, 'text/css; charset=utf-8', ADMIN_STYLES);
    if (path === '/login') return method === 'POST' ? this.login(request, response) : sendHtml(response, 200, loginPage(null));
    if (method === 'POST' && path === '/logout') return redirect(response, '/login', { 'Set-Cookie': this.auth.logout(request) });
    const principal = this.auth.principal(request);
    if (parts[0] === 'api') return this.api(request, response, method, parts.slice(1), principal);
    if (!principal) return redirect(response, '/login');
    if (method === 'GET' && path === '/') return this.dashboard(response, principal);
    const action = actionOf(method, parts);
    if (!action) return sendHtml(response, 404, loginPage('No such page.'));
    const form = await readForm(request);
    if (!form || !this.auth.mayChange(principal, form.get('csrf') ?? undefined)) return sendHtml(response, 403, loginPage('Refused: the form is stale (no valid CSRF token). Reload the page.'));
    await this.perform(action, principal, request);
    return redirect(response, '/');
  }

  private async api(request: IncomingMessage, response: ServerResponse, method: string, parts: string[], principal: Principal | null): Promise<void> {
    if (!principal) return sendJson(response, 401, { error: 'log in, or send Authorization: Bearer TOKEN' }, { 'WWW-Authenticate': 'Bearer realm="ferry"' });
    const [view] = parts;
    if (method === 'GET' && parts.length === 1 && (view === 'sessions' || view === 'bans' || view === 'stats')) {
      const snapshot = await this.data.snapshot();
      return sendJson(response, 200, view === 'stats' ? snapshot.stats : { [view]: snapshot[view] });
    }
    const action = actionOf(method, parts);
    if (!action) return sendJson(response, 404, { error: 'no such API path' });
    const csrf = request.headers['x-csrf-token'];
    if (!this.auth.mayChange(principal, typeof csrf === 'string' ? csrf : undefined)) return sendJson(response, 403, { error: 'a cookie login needs its CSRF token in X-CSRF-Token' });
    const done = await this.perform(action, principal, request);
    return done ? sendJson(response, 200, { ok: true }) : sendJson(response, 404, { error: action.kind === 'kick' ? 'no such session' : 'not banned' });
  }

  /** Kicks or unbans; false when there was no such session or ban. */
  private perform(action: Action, principal: Principal, request: IncomingMessage): Promise<boolean> {
    const by = `${principal.who}@${remoteOf(request)}`;
    if (action.kind === 'kick') return this.data.kick(action.id, by);
    return this.data.unban(action.address, by);
  }

  private async dashboard(response: ServerResponse, principal: Principal): Promise<void> {
    const csrf = principal.kind === 'cookie' ? principal.session.csrf : '';
    sendHtml(response, 200, dashboardPage({ ...(await this.data.snapshot()), perWorker: this.data.perWorker, csrf, who: principal.who }));
  }

  private async login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = await readForm(request);
    if (!form) return sendHtml(response, 413, loginPage('The form is too big.'));
    const result = await this.auth.login(remoteOf(request), form.get('user') ?? '', form.get('password') ?? '');
    if (!result.ok) return sendHtml(response, result.status, loginPage(result.message));
    redirect(response, '/', { 'Set-Cookie': result.cookie });
  }
}
