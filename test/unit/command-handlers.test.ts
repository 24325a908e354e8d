/**
 * Command handlers and policies without sockets: a handler gets a CommandContext built
 * by test/helpers/command-harness.ts (a real SessionState, ConnectionInfo and site, a
 * recording data-connection setup) and its Outcome is checked directly.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICIES, type Policy } from '../../src/server/policies.js';
import { LocalStorage } from '../../src/storage/local.js';
import { asReply, commandHarness, loggedIn, type Harness } from '../helpers/command-harness.js';

const home = mkdtempSync(join(tmpdir(), 'ferry-handlers-'));
after(() => rmSync(home, { recursive: true, force: true }));

function harness(config: Record<string, unknown> = {}, options: { remote?: string; policies?: readonly Policy[] } = {}): Harness {
  return commandHarness({ home, config, ...options });
}

describe('login handlers', () => {
  test('USER then PASS logs in and opens the storage; the state says who and where', async () => {
    const h = harness();
    assert.equal(asReply(await h.run('USER alice')).code, 331);
    assert.equal(h.state.pendingUser, 'alice');
    const ok = asReply(await h.run('PASS secret'));
    assert.deepEqual(ok, { code: 230, text: 'Login successful.' });
    assert.equal(h.state.user?.name, 'alice');
    assert.equal(h.state.pendingUser, null);
    assert.equal(h.state.cwd, '/');
  });

  test('wrong passwords: 530 until max_login_failures, then a close with 421', async () => {
    const h = harness({ max_login_failures: 2 });
    await h.run('USER alice');
    assert.equal(asReply(await h.run('PASS wrong')).code, 530);
    await h.run('USER alice');
    const last = await h.run('PASS wrong');
    assert.ok('close' in last);
    assert.equal(last.close.code, 421);
    assert.equal(h.state.loginFailures, 2);
    assert.equal(h.state.user, null);
  });

  test('a banned address is refused before the password is checked', async () => {
    const h = harness();
    for (let i = 0; i < 10; i++) h.defender.record(h.connection.remoteAddress, 'too-many-failures');
    await h.run('USER alice');
    const outcome = await h.run('PASS secret');
    assert.ok('close' in outcome && outcome.close.code === 421);
    assert.equal(h.state.user, null);
  });

  test('QUIT closes, REIN reinitializes, AUTH without TLS configured is 502', async () => {
    const h = harness();
    assert.deepEqual(await h.run('QUIT'), { close: { code: 221, text: 'Goodbye.' } });
    assert.deepEqual(await h.run('REIN'), { reinitialize: { code: 220, text: 'Ready for a new user.' } });
    assert.equal(asReply(await h.run('AUTH TLS')).code, 502);
  });
});

describe('policies', () => {
  test('commands that need a login are refused with 530 before it, and run after it', async () => {
    const h = harness();
    assert.deepEqual(await h.run('PWD'), { code: 530, text: 'Please login with USER and PASS.' });
    await loggedIn(h);
    assert.deepEqual(await h.run('PWD'), { code: 257, text: '"/" is the current directory.' });
  });

  test("a user's own TLS policy holds after login when the authenticator gives it only through tlsModeFor", async () => {
    // alice must protect her data (tls = "required"); the site itself does not ask it.
    const h = commandHarness({ home, tlsModes: { alice: 'required' } });
    h.connection.secured('TLSv1.3', null);
    await loggedIn(h);
    assert.equal(h.state.user?.tls, 'required');
    writeFileSync(join(home, 'data.txt'), 'data');
    assert.equal(asReply(await h.run('RETR data.txt')).code, 521);
    // bob has no policy of his own: the site's applies.
    const bob = commandHarness({ home, tlsModes: { alice: 'required' } });
    await loggedIn(bob, 'bob');
    assert.equal(bob.state.user?.tls, undefined);
    assert.ok(!('code' in (await bob.run('RETR data.txt'))), 'bob gets his transfer');
  });

  test('a site may add its own policy, and it may be async', async () => {
    const noDeletes: Policy = async (spec) => (spec.verb === 'DELE' ? { error: 'FERRY_ERR_PERMISSION', text: 'Deleting is off on this site.' } : null);
    const h = harness({}, { policies: [...DEFAULT_POLICIES, noDeletes] });
    await loggedIn(h);
    writeFileSync(join(home, 'keep.txt'), 'keep');
    assert.deepEqual(await h.run('DELE keep.txt'), { code: 550, text: 'Deleting is off on this site.' });
  });
});

describe('data-connection handlers', () => {
  test('PORT to the client itself prepares an active connection; to another address it is refused with the NAT hint', async () => {
    const h = harness();
    await loggedIn(h);
    assert.equal(asReply(await h.run('PORT 203,0,113,5,156,64')).code, 200);
    assert.deepEqual(h.data.active, [{ host: '203.0.113.5', port: 40000 }]);
    const refused = asReply(await h.run('PORT 10,0,0,7,156,64'));
    assert.equal(refused.code, 504);
    assert.match(String(refused.text), /own address \(203\.0\.113\.5\); behind NAT, use passive mode/);
    assert.equal(h.data.active.length, 1);
  });

  test('PASV advertises passive.address when set, else the local address; after EPSV ALL it is 503', async () => {
    const masqueraded = harness({ passive: { address: '192.0.2.9' } });
    await loggedIn(masqueraded);
    assert.deepEqual(await masqueraded.run('PASV'), { code: 227, text: 'Entering Passive Mode (192,0,2,9,195,81). Address from passive.address.' });
    const plain = harness();
    await loggedIn(plain);
    assert.deepEqual(await plain.run('PASV'), { code: 227, text: 'Entering Passive Mode (198,51,100,1,195,81).' });
    assert.equal(asReply(await plain.run('EPSV ALL')).code, 200);
    assert.equal(asReply(await plain.run('PASV')).code, 503);
    assert.equal(asReply(await plain.run('EPSV')).code, 229);
  });

  test('REST survives TYPE and PASV but not other commands; RETR gets its offset and returns a transfer', async () => {
    const h = harness();
    await loggedIn(h);
    writeFileSync(join(home, 'data.bin'), 'abcdefghij');
    assert.equal(asReply(await h.run('REST 4')).code, 350);
    await h.run('TYPE I');
    await h.run('PASV');
    const outcome = await h.run('RETR data.bin');
    assert.ok('transfer' in outcome);
    assert.equal(outcome.transfer.opening, 'Opening BINARY mode data connection for data.bin (10 bytes).');
    outcome.transfer.release?.();
    await h.run('REST 4');
    await h.run('NOOP');
    assert.equal(h.state.carryArguments({ duringTransfer: false, keepsRestart: false }).restOffset, 0, 'NOOP used the REST up');
  });

  test('RNFR then RNTO renames; RNTO without RNFR is 503', async () => {
    const h = harness();
    await loggedIn(h);
    writeFileSync(join(home, 'old.txt'), 'x');
    assert.equal(asReply(await h.run('RNTO new.txt')).code, 503);
    assert.equal(asReply(await h.run('RNFR old.txt')).code, 350);
    assert.equal(asReply(await h.run('RNTO new.txt')).code, 250);
    assert.equal((await new LocalStorage(home).stat('/new.txt')).type, 'file');
  });
});

describe('information handlers', () => {
  test('FEAT lists what the site offers (no AUTH TLS without a certificate); TYPE changes the state', async () => {
    const h = harness();
    const feat = asReply(await h.run('FEAT'));
    assert.equal(feat.code, 211);
    const lines = feat.text as readonly string[];
    assert.ok(lines.includes('EPSV') && lines.includes('MDTM') && lines.includes('UTF8'));
    assert.ok(!lines.includes('AUTH TLS'));
    await loggedIn(h);
    await h.run('TYPE I');
    assert.equal(h.state.transferType, 'I');
    assert.equal(asReply(await h.run('TYPE X')).code, 501);
    assert.equal(h.state.transferType, 'I');
  });
});
