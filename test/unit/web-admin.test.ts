/** The web admin's pieces without sockets: its config keys, the defender's unban, escaping, speeds and the login checks. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { hashPassword } from '../../src/auth/password.js';
import { validateConfig } from '../../src/config/load.js';
import { AdminAuth, parseCookies } from '../../src/observability/admin/auth.js';
import { escapeHtml } from '../../src/observability/admin/pages.js';
import { TransferSpeeds } from '../../src/observability/admin/transfer-speeds.js';
import { Defender, type AbuseLedger } from '../../src/server/defender.js';
import { configError } from '../helpers/config-error.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';

const LISTEN = '127.0.0.1:0';
const TOKEN = 'a-token-of-enough-length';

describe('[admin] token, user and password', () => {
  test('unset by default', () => {
    const { admin } = validateConfig({}, 'test');
    assert.deepEqual([admin.token, admin.user, admin.password], [undefined, undefined, undefined]);
  });

  test('a short token, a password that is no scrypt hash, a user without password (and back), a login without listen: each names its key', async () => {
    const hash = await hashPassword('x');
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ listen: LISTEN, token: 'short' }, 'admin.token', /at least 16 characters/],
      [{ listen: LISTEN, user: 'admin', password: 'plain-text' }, 'admin.password', /scrypt hash/],
      [{ listen: LISTEN, user: 'admin' }, 'admin.password', /required when admin\.user is set/],
      [{ listen: LISTEN, password: hash }, 'admin.user', /required when admin\.password is set/],
      [{ token: TOKEN }, 'admin.token', /runs on admin\.listen/],
      [{ user: 'admin', password: hash }, 'admin.user', /runs on admin\.listen/],
    ];
    for (const [admin, key, message] of cases) {
      const error = configError(() => validateConfig({ admin }, 'test'));
      assert.equal(error.key, key, JSON.stringify(admin));
      assert.match(error.message, message);
    }
    assert.equal(validateConfig({ admin: { listen: LISTEN, token: TOKEN, user: 'admin', password: hash } }, 'test').admin.user, 'admin');
  });
});

describe('defender: listBans and unban', () => {
  function banned(shared?: AbuseLedger) {
    const lines: LogLine[] = [];
    const clock = { now: 1000 };
    const defender = new Defender({ enabled: true, threshold: 1, observationMs: 10_000, banMs: 60_000, allow: [], logger: recordingLogger(lines), now: () => clock.now, shared });
    defender.record('192.0.2.1', 'login-failed');
    defender.record('2001:db8:0:1::7', 'login-failed');
    return { defender, lines, clock };
  }

  test('lists the bans in force with their end; expired ones are gone', () => {
    const { defender, clock } = banned();
    assert.deepEqual(defender.listBans(), [
      { address: '192.0.2.1', until: 61_000 },
      { address: '2001:db8:0:1::/64', until: 61_000 },
    ]);
    clock.now = 61_000;
    assert.deepEqual(defender.listBans(), []);
  });

  test('unban lifts a ban by its listed name or any address of its group, logs who, and tells the shared ledger', () => {
    const forgiven: string[] = [];
    const { defender, lines } = banned({ report: () => undefined, forgive: (group) => forgiven.push(group) });
    assert.equal(defender.unban('192.0.2.1', 'admin@127.0.0.1'), true);
    assert.equal(defender.isBanned('192.0.2.1'), false);
    assert.equal(defender.unban('2001:db8:0:1::99', 'token@::1'), true, 'another address of the /64');
    assert.equal(defender.isBanned('2001:db8:0:1::7'), false);
    assert.equal(defender.unban('192.0.2.1', 'admin@127.0.0.1'), false, 'no longer banned');
    assert.deepEqual(forgiven, ['192.0.2.1', '2001:db8:0:1::/64']);
    const logged = lines.filter((line) => line.message === 'ban lifted by an administrator');
    assert.deepEqual(logged.map((line) => line.fields), [{ address: '192.0.2.1', by: 'admin@127.0.0.1' }, { address: '2001:db8:0:1::/64', by: 'token@::1' }]);
  });

  test('forgetBan (another node lifted it) drops the ban here without telling the ledger again', () => {
    const forgiven: string[] = [];
    const { defender } = banned({ report: () => undefined, forgive: (group) => forgiven.push(group) });
    defender.forgetBan('192.0.2.1', 'another node');
    assert.equal(defender.isBanned('192.0.2.1'), false);
    assert.deepEqual(forgiven, []);
  });
});

describe('web admin helpers', () => {
  test('escapeHtml leaves no markup', () => {
    assert.equal(escapeHtml(`<img src=x onerror="alert('1')">&`), '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
  });

  test('a speed is the bytes between two reads at least half a second apart', () => {
    const clock = { now: 0 };
    const speeds = new TransferSpeeds(() => clock.now);
    const transfer = {};
    assert.equal(speeds.speedOf(transfer, 0), 0);
    clock.now = 200;
    assert.equal(speeds.speedOf(transfer, 1000), 0, 'too soon: the last speed');
    clock.now = 1000;
    assert.equal(speeds.speedOf(transfer, 4000), 4000);
    clock.now = 3000;
    assert.equal(speeds.speedOf(transfer, 6000), 1000);
  });

  test('parseCookies reads name=value pairs', () => {
    assert.deepEqual([...parseCookies('a=1; ferry_admin=xyz;b=')], [['a', '1'], ['ferry_admin', 'xyz'], ['b', '']]);
    assert.equal(parseCookies(undefined).size, 0);
  });

  test('a failed login is logged with the address and the user name tried; the password never', async () => {
    const lines: LogLine[] = [];
    const auth = new AdminAuth({ token: TOKEN }, recordingLogger(lines));
    const result = await auth.login('192.0.2.9', 'root', 'guess-guess');
    assert.deepEqual(result, { ok: false, status: 401, message: 'Wrong user name, password or token.' });
    const failed = lines.find((line) => line.message === 'web admin login failed');
    assert.deepEqual(failed?.fields, { remote: '192.0.2.9', user: 'root', failures: 1 });
    assert.equal(failed?.level, 'warn');
    assert.ok(!JSON.stringify(lines).includes('guess-guess'));
  });

  test('a login cookie expires', async () => {
    const clock = { now: 0 };
    const auth = new AdminAuth({ token: TOKEN }, recordingLogger([]), () => clock.now);
    const result = await auth.login('192.0.2.9', '', TOKEN);
    assert.ok(result.ok);
    const request = { headers: { cookie: result.cookie.split(';')[0] } } as IncomingMessage;
    assert.equal(auth.principal(request)?.who, 'token');
    clock.now = 12 * 3600 * 1000;
    assert.equal(auth.principal(request), null);
  });
});
