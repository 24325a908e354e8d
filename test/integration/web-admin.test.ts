/**
 * The web admin over plain HTTP (the browser test is web-admin-browser.test.ts): off
 * without a login configured, what a request without login, with a wrong token or with
 * the token gets, the login form (cookie attributes, delayed and capped failures), CSRF,
 * kick and unban through the API and the forms, escaping of client-chosen names, and the
 * security headers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, USER, withTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { ADMIN_TOKEN, adminFetch, apiSessions, bearer, loginCookie, startAdminServer, startSlowDownload } from '../helpers/web-admin.js';

/** Runs `fn` against a server with the web admin on, then stops it. */
async function withAdminServer(overrides: Record<string, unknown>, fn: (server: Awaited<ReturnType<typeof startAdminServer>>) => Promise<void>): Promise<void> {
  const server = await startAdminServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** The CSRF token the dashboard gives this login. */
async function csrfOf(base: string, cookie: string): Promise<string> {
  const html = await (await adminFetch(base, '/', { headers: { cookie } })).text();
  return /<meta name="csrf-token" content="([^"]+)">/.exec(html)![1]!;
}

describe('web admin', () => {
  test('off without a login configured: 404 saying how to turn it on; /metrics stays open', () =>
    withTestServer({ admin: { listen: '127.0.0.1:0' } }, async (server) => {
      const base = `http://127.0.0.1:${server.admin!.port}`;
      for (const path of ['/', '/login', '/api/sessions']) {
        const response = await adminFetch(base, path, { headers: bearer });
        assert.equal(response.status, 404, path);
        assert.match(await response.text(), /web admin is off: set admin\.token, or admin\.user and admin\.password/);
      }
      assert.equal((await adminFetch(base, '/metrics')).status, 200);
    }));

  test('without login: pages redirect to /login, the API is 401; a wrong token is 401; the token opens the API; /metrics needs none', () =>
    withAdminServer({}, async ({ base }) => {
      const page = await adminFetch(base, '/');
      assert.equal(page.status, 303);
      assert.equal(page.headers.get('location'), '/login');
      for (const headers of [{}, { Authorization: 'Bearer wrong-token-wrong-token' }, { Authorization: `Bearer ${ADMIN_TOKEN}x` }] as Array<Record<string, string>>) {
        const api = await adminFetch(base, '/api/sessions', { headers });
        assert.equal(api.status, 401, JSON.stringify(headers));
        assert.equal(api.headers.get('www-authenticate'), 'Bearer realm="ferry"');
      }
      const sessions = await adminFetch(base, '/api/sessions', { headers: bearer });
      assert.equal(sessions.status, 200);
      assert.deepEqual(await sessions.json(), { sessions: [] });
      const stats = (await (await adminFetch(base, '/api/stats', { headers: bearer })).json()) as Record<string, number>;
      assert.equal(stats.sessions, 0);
      assert.equal(typeof stats.uptimeSeconds, 'number');
      assert.equal((await adminFetch(base, '/metrics')).status, 200);
    }));

  test('login with the admin user or the token sets an HttpOnly, SameSite=Strict cookie; logout ends it', () =>
    withAdminServer({}, async ({ base }) => {
      const response = await adminFetch(base, '/login', { method: 'POST', body: new URLSearchParams({ user: 'admin', password: 'admin-secret' }) });
      assert.equal(response.status, 303);
      const cookie = response.headers.get('set-cookie')!;
      assert.match(cookie, /^ferry_admin=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
      const session = cookie.split(';')[0]!;
      const dashboard = await adminFetch(base, '/', { headers: { cookie: session } });
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /<h2>Sessions<\/h2>/);
      assert.equal((await adminFetch(base, '/api/stats', { headers: { cookie: session } })).status, 200);
      await adminFetch(base, '/logout', { method: 'POST', headers: { cookie: session } });
      assert.equal((await adminFetch(base, '/api/stats', { headers: { cookie: session } })).status, 401);
      assert.equal((await adminFetch(base, '/', { headers: { cookie: await loginCookie(base, '', ADMIN_TOKEN) } })).status, 200);
    }));

  test('failed logins are answered late and, past 5 from one address (even sent at once), even the right password is refused (429)', () =>
    withAdminServer({}, async ({ base }) => {
      const started = performance.now();
      const failures = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8].map(() => adminFetch(base, '/login', { method: 'POST', body: new URLSearchParams({ user: 'admin', password: 'wrong' }) })),
      );
      assert.deepEqual(failures.map((response) => response.status).sort(), [401, 401, 401, 401, 401, 429, 429, 429]);
      assert.ok(performance.now() - started >= 900, 'a failed login is delayed');
      const refused = await adminFetch(base, '/login', { method: 'POST', body: new URLSearchParams({ user: 'admin', password: 'admin-secret' }) });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('set-cookie'), null);
      // The API's token is not a login form: it still works.
      assert.equal((await adminFetch(base, '/api/stats', { headers: bearer })).status, 200);
    }));

  test('kick over the API with the token: the client gets 421, its transfer ends, the session is gone', () =>
    withAdminServer({}, async (server) => {
      const download = await startSlowDownload(server, 'big.bin', USER, PASSWORD);
      try {
        let [session] = await apiSessions(server.base);
        assert.equal(session?.user, USER);
        assert.equal(session?.command, 'RETR');
        assert.equal(session?.transfer?.path, '/big.bin');
        assert.equal(session?.tls, false);
        assert.ok(await waitFor(async () => ((await apiSessions(server.base))[0]?.transfer?.bytes ?? 0) > 0), 'bytes are counted');
        const response = await adminFetch(server.base, `/api/sessions/${encodeURIComponent(session!.id)}/kick`, { method: 'POST', headers: bearer });
        assert.equal(response.status, 200);
        assert.equal((await download.ftp.read()).code, 421);
        assert.ok(await download.ftp.closedByServer(5000));
        assert.ok(await waitFor(async () => (await apiSessions(server.base)).length === 0, 10_000), 'the session is gone');
        const again = await adminFetch(server.base, `/api/sessions/${encodeURIComponent(session!.id)}/kick`, { method: 'POST', headers: bearer });
        assert.equal(again.status, 404);
        [session] = await apiSessions(server.base);
        assert.equal(session, undefined);
      } finally {
        download.ftp.close();
      }
    }));

  test('CSRF: with the cookie, a kick without the CSRF token is refused (403) and the session lives; with it, it works', () =>
    withAdminServer({}, async (server) => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      try {
        const cookie = await loginCookie(server.base);
        const [session] = await apiSessions(server.base);
        const api = `/api/sessions/${encodeURIComponent(session!.id)}/kick`;
        const form = `/sessions/${encodeURIComponent(session!.id)}/kick`;
        assert.equal((await adminFetch(server.base, api, { method: 'POST', headers: { cookie } })).status, 403);
        assert.equal((await adminFetch(server.base, api, { method: 'POST', headers: { cookie, 'X-CSRF-Token': 'forged' } })).status, 403);
        assert.equal((await adminFetch(server.base, form, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ csrf: '' }) })).status, 403);
        assert.equal((await adminFetch(server.base, form, { method: 'POST', body: new URLSearchParams({ csrf: 'x' }) })).status, 303, 'no cookie: to the login page');
        assert.equal((await apiSessions(server.base)).length, 1);
        await ftp.expect('NOOP', 200);
        const csrf = await csrfOf(server.base, cookie);
        const kicked = await adminFetch(server.base, form, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ csrf }) });
        assert.equal(kicked.status, 303);
        assert.equal(kicked.headers.get('location'), '/');
        assert.equal((await ftp.read()).code, 421);
        assert.ok(await ftp.closedByServer(5000));
      } finally {
        ftp.close();
      }
    }));

  test('a ban from failed FTP logins is listed and unbanning lifts it: the address may connect again', () =>
    withAdminServer({ defender: { threshold: 2, failed_login_delay: 0 } }, async (server) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const ftp = await FtpConnection.connect(server.host, server.port);
        await ftp.expect(`USER ${USER}`, 331);
        await ftp.send('PASS wrong');
        ftp.close();
      }
      const banned = await FtpConnection.connect(server.host, server.port);
      assert.equal(banned.greeting?.code, 421);
      banned.close();
      const { bans } = (await (await adminFetch(server.base, '/api/bans', { headers: bearer })).json()) as { bans: Array<{ address: string; until: string }> };
      assert.deepEqual(bans.map((ban) => ban.address), ['127.0.0.1']);
      assert.ok(Date.parse(bans[0]!.until) > Date.now());
      const cookie = await loginCookie(server.base);
      assert.match(await (await adminFetch(server.base, '/', { headers: { cookie } })).text(), /<tr data-ban="127\.0\.0\.1"><td data-field="address">127\.0\.0\.1<\/td>/);
      assert.equal((await adminFetch(server.base, '/api/bans/127.0.0.1/unban', { method: 'POST', headers: { cookie } })).status, 403, 'CSRF applies to unban too');
      assert.equal((await adminFetch(server.base, '/api/bans/127.0.0.1/unban', { method: 'POST', headers: bearer })).status, 200);
      assert.deepEqual(await (await adminFetch(server.base, '/api/bans', { headers: bearer })).json(), { bans: [] });
      assert.equal((await adminFetch(server.base, '/api/bans/127.0.0.1', { method: 'DELETE', headers: bearer })).status, 404, 'no longer banned');
      const welcome = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await welcome.quit();
    }));

  test('a file name with HTML in it is text in the dashboard, raw in the JSON', () =>
    withAdminServer({}, async (server) => {
      const name = '<img src=x onerror=alert(1)>.bin';
      const download = await startSlowDownload(server, name, USER, PASSWORD);
      try {
        const [session] = await apiSessions(server.base);
        assert.equal(session?.transfer?.path, `/${name}`);
        const html = await (await adminFetch(server.base, '/', { headers: { cookie: await loginCookie(server.base) } })).text();
        assert.ok(html.includes('<td data-field="path">/&lt;img src=x onerror=alert(1)&gt;.bin</td>'), html);
        assert.ok(!html.includes('<img'), 'no tag from the name');
      } finally {
        download.ftp.close();
      }
    }));

  test('every response forbids framing, caching and scripts from elsewhere', () =>
    withAdminServer({}, async ({ base }) => {
      const cookie = await loginCookie(base);
      for (const [path, headers] of [['/login', {}], ['/', { cookie }], ['/api/stats', bearer], ['/api/sessions', {}], ['/admin.js', {}]] as const) {
        const response = await adminFetch(base, path, { headers });
        assert.equal(response.headers.get('content-security-policy'), "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'", path);
        assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
        assert.equal(response.headers.get('cache-control'), 'no-store', path);
      }
      const html = await (await adminFetch(base, '/', { headers: { cookie } })).text();
      assert.ok(!/<script>|<script [^>]*>[^<]/.test(html), 'no inline script');
      assert.match(html, /<script src="\/admin\.js" defer><\/script>/);
    }));
});
