/**
 * The server's log says what a users-file re-read changed, or why it was rejected (the
 * previous users stay); never a password hash.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password.js';
import { SiteUserSource } from '../../src/cli/site-users.js';
import { validateConfig } from '../../src/config/load.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';

const base = mkdtempSync(join(tmpdir(), 'ferry-site-users-'));
after(() => rmSync(base, { recursive: true, force: true }));

function rewrite(path: string, text: string, secondsSinceEpoch: number): void {
  writeFileSync(path, text);
  utimesSync(path, secondsSinceEpoch, secondsSinceEpoch);
}

describe('users file reload, as logged', () => {
  test('a good edit logs the users added, removed and changed; a broken one logs why and keeps them', async () => {
    const hash = await hashPassword('secret');
    const path = join(base, 'users.toml');
    rewrite(path, `[users.alice]\npassword = "${hash}"\n`, 1_700_000_000);
    const lines: LogLine[] = [];
    const source = new SiteUserSource(recordingLogger(lines));
    const { authenticator } = await source.forSite(validateConfig({ root: join(base, 'root'), users_file: path }, 'test'));
    assert.equal(authenticator.knowsUser('alice'), true);

    rewrite(path, `[users.bob]\npassword = "${hash}"\n`, 1_700_000_100);
    assert.equal(authenticator.knowsUser('bob'), true);
    const reloaded = lines.filter((line) => line.message === 'users file reloaded');
    assert.equal(reloaded.length, 1);
    assert.equal(reloaded[0]!.level, 'info');
    assert.deepEqual(reloaded[0]!.fields, { file: path, users: 1, added: ['bob'], removed: ['alice'], changed: [] });

    rewrite(path, '[users.bob\n', 1_700_000_200);
    assert.equal(authenticator.knowsUser('bob'), true);
    const rejected = lines.filter((line) => line.message === 'users file reload failed; keeping the previous users');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.level, 'error');
    assert.match(String(rejected[0]!.fields.err), /users/);
    assert.ok(!JSON.stringify(lines).includes(hash), 'a password hash reached the log');
  });
});
