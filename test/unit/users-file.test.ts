import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password.js';
import { READ_ONLY } from '../../src/auth/permissions.js';
import { readUsersFile, UsersFileWatcher, type UsersFileChange } from '../../src/auth/users-file.js';
import { editUsersFile } from '../../src/auth/users-file-edit.js';
import { ConfigError } from '../../src/config/errors.js';
import { configError } from '../helpers/config-error.js';

let base: string;
let dirCount = 0;
let hashA: string;
let hashB: string;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'ferry-users-'));
  [hashA, hashB] = await Promise.all([hashPassword('alice-pw'), hashPassword('bob-pw')]);
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

/** A fresh folder and the users-file path inside it (the file does not exist yet). */
function usersPath(): string {
  const dir = join(base, `case-${++dirCount}`);
  mkdirSync(dir);
  return join(dir, 'users.toml');
}

/** Adds a user, or gives an existing one this password (and home, read-only), as `ferry user add` does. */
function saveUser(path: string, user: { name: string; passwordHash: string; home?: string; readOnly?: boolean }): Promise<void> {
  return editUsersFile(path, (users) => {
    users[user.name] = { ...users[user.name], password: user.passwordHash, ...(user.home && { home: user.home }), ...(user.readOnly && { read_only: true }) };
  });
}

/** Moves a file's mtime to a distinct, fixed point so a watcher must notice it. */
function touch(path: string, secondsSinceEpoch: number): void {
  utimesSync(path, secondsSinceEpoch, secondsSinceEpoch);
}

describe('editUsersFile / readUsersFile', () => {
  test('a missing users file is an empty one', () => {
    assert.equal(readUsersFile(usersPath()).size, 0);
  });

  test('round trip of one user with defaults', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    const users = readUsersFile(path);
    assert.deepEqual([...users.keys()], ['alice']);
    const alice = users.get('alice');
    assert.ok(alice);
    assert.equal(alice.passwordHash, hashA);
    assert.equal(alice.home, undefined);
    assert.equal(alice.permissions, undefined);
  });

  test('home (relative to the file folder) and read-only survive the round trip', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'bob', passwordHash: hashB, home: 'homes/bob', readOnly: true });
    const bob = readUsersFile(path).get('bob');
    assert.ok(bob);
    assert.equal(bob.passwordHash, hashB);
    assert.equal(bob.home, join(path, '..', 'homes', 'bob'));
    assert.deepEqual([...(bob.permissions ?? [])].sort(), [...READ_ONLY].sort());
  });

  test('saving a second user keeps the first; saving again replaces the password and keeps the home', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA, home: '/srv/alice' });
    await saveUser(path, { name: 'bob', passwordHash: hashB });
    await saveUser(path, { name: 'alice', passwordHash: hashB });
    const users = readUsersFile(path);
    assert.deepEqual([...users.keys()].sort(), ['alice', 'bob']);
    assert.equal(users.get('alice')!.passwordHash, hashB);
    assert.equal(users.get('alice')!.home, '/srv/alice');
    assert.equal(users.get('bob')!.passwordHash, hashB);
  });

  test('fields written by hand (permissions) are kept when another user is saved', async () => {
    const path = usersPath();
    writeFileSync(path, `[users.carol]\npassword = "${hashA}"\npermissions = ["list", "read", "write"]\n`);
    await saveUser(path, { name: 'dave', passwordHash: hashB });
    const carol = readUsersFile(path).get('carol');
    assert.deepEqual([...(carol?.permissions ?? [])], ['list', 'read', 'write']);
  });

  test('the file is written with mode 0600 and no temporary file is left', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await saveUser(path, { name: 'bob', passwordHash: hashB });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(path, '..')), ['users.toml']);
  });

  test("an edit keeps the old file's owner, group and mode (root editing the file of a server that runs as another account)", { skip: process.getuid?.() !== 0 && 'needs root (to give a file to another account)' }, async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    chmodSync(path, 0o640);
    chownSync(path, 65534, 65534);
    await saveUser(path, { name: 'bob', passwordHash: hashB });
    const stats = statSync(path);
    assert.deepEqual([stats.uid, stats.gid, stats.mode & 0o777], [65534, 65534, 0o640]);
    // Never more than owner and group: a world-readable file is tightened.
    chmodSync(path, 0o644);
    await saveUser(path, { name: 'carol', passwordHash: hashB });
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test('an edit that would make the file invalid is refused and the file stays as it was', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    const before = readFileSync(path, 'utf8');
    const error = await editUsersFile(path, (users) => {
      users.alice!.quota_bytes = -1;
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, 'users.alice.quota_bytes');
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.deepEqual(readdirSync(join(path, '..')), ['users.toml']);
  });

  test('the file holds the hash, never anything else about the password', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(hashA));
    assert.ok(!text.includes('alice-pw'));
  });
});

describe('readUsersFile: validation', () => {
  test('an unknown key is rejected and named', () => {
    const path = usersPath();
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\nshell = "/bin/sh"\n`);
    const error = configError(() => readUsersFile(path));
    assert.equal(error.key, 'users.alice.shell');
    assert.match(error.message, /unknown key/);
    assert.ok(error.message.includes(path));
  });

  test('an unknown top-level table is rejected', () => {
    const path = usersPath();
    writeFileSync(path, '[groups.admins]\nmembers = []\n');
    assert.equal(configError(() => readUsersFile(path)).key, 'groups');
  });

  test('a clear-text password is rejected', () => {
    const path = usersPath();
    writeFileSync(path, '[users.alice]\npassword = "alice-pw"\n');
    const error = configError(() => readUsersFile(path));
    assert.equal(error.key, 'users.alice.password');
    assert.ok(!error.message.includes('alice-pw'));
  });

  test('an unknown permission is rejected', () => {
    const path = usersPath();
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\npermissions = ["read", "sudo"]\n`);
    assert.equal(configError(() => readUsersFile(path)).key, 'users.alice.permissions.1');
  });

  test('a user name with a slash or a space is rejected', () => {
    for (const name of ['a/b', 'a b', 'a:b']) {
      const path = usersPath();
      writeFileSync(path, `[users."${name}"]\npassword = "${hashA}"\n`);
      configError(() => readUsersFile(path));
    }
  });

  test('a charset is read, and an unknown one is rejected and named', () => {
    const path = usersPath();
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\ncharset = "big5"\n`);
    assert.equal(readUsersFile(path).get('alice')?.charset, 'big5');
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\ncharset = "klingon"\n`);
    const error = configError(() => readUsersFile(path));
    assert.equal(error.key, 'users.alice.charset');
    assert.match(error.message, /charset/);
  });

  test('a TOML syntax error is a ConfigError', () => {
    const path = usersPath();
    writeFileSync(path, '[users.alice\npassword = 1\n');
    assert.match(configError(() => readUsersFile(path)).message, /TOML syntax error/);
  });
});

describe('UsersFileWatcher', () => {
  test('picks up a changed file', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    touch(path, 1_700_000_000);
    const errors: Error[] = [];
    const watcher = new UsersFileWatcher(path, (error) => errors.push(error));
    assert.equal(watcher.lookup('alice')?.passwordHash, hashA);
    assert.equal(watcher.lookup('bob'), undefined);

    await saveUser(path, { name: 'bob', passwordHash: hashB });
    touch(path, 1_700_000_100);
    assert.equal(watcher.lookup('bob')?.passwordHash, hashB);
    assert.equal(watcher.lookup('alice')?.passwordHash, hashA);
    assert.deepEqual(errors, []);
  });

  test('a user removed from the file disappears', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    touch(path, 1_700_000_000);
    const watcher = new UsersFileWatcher(path, () => assert.fail('no reload error expected'));
    assert.ok(watcher.lookup('alice'));
    writeFileSync(path, `[users.bob]\npassword = "${hashB}"\n`);
    touch(path, 1_700_000_200);
    assert.equal(watcher.lookup('alice'), undefined);
    assert.ok(watcher.lookup('bob'));
  });

  test('a broken edit keeps the last good version and reports the error once', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    touch(path, 1_700_000_000);
    const errors: Error[] = [];
    const watcher = new UsersFileWatcher(path, (error) => errors.push(error));
    writeFileSync(path, '[users.alice\n');
    touch(path, 1_700_000_300);
    assert.equal(watcher.lookup('alice')?.passwordHash, hashA);
    assert.equal(watcher.lookup('alice')?.passwordHash, hashA);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ConfigError);
  });

  test('a re-read reports the users it added, removed and changed', async () => {
    const path = usersPath();
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\n[users.carol]\npassword = "${hashA}"\n[users.dave]\npassword = "${hashA}"\n`);
    touch(path, 1_700_000_000);
    const changes: UsersFileChange[] = [];
    const watcher = new UsersFileWatcher(path, () => assert.fail('no reload error expected'), (change) => changes.push(change));
    assert.ok(watcher.lookup('alice'));
    assert.deepEqual(changes, []);
    writeFileSync(path, `[users.alice]\npassword = "${hashA}"\n[users.carol]\npassword = "${hashB}"\n[users.bob]\npassword = "${hashB}"\nread_only = true\n`);
    touch(path, 1_700_000_400);
    assert.ok(watcher.lookup('bob'));
    assert.deepEqual(changes, [{ users: 3, added: ['bob'], removed: ['dave'], changed: ['carol'] }]);
  });

  test('an unchanged mtime means no re-read', async () => {
    const path = usersPath();
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    touch(path, 1_700_000_000);
    const watcher = new UsersFileWatcher(path, () => undefined);
    writeFileSync(path, `[users.bob]\npassword = "${hashB}"\n`);
    touch(path, 1_700_000_000);
    assert.ok(watcher.lookup('alice'));
    assert.equal(watcher.lookup('bob'), undefined);
  });

  test('a file that does not exist yet is picked up once created', async () => {
    const path = usersPath();
    const watcher = new UsersFileWatcher(path, () => assert.fail('no reload error expected'));
    assert.equal(watcher.lookup('alice'), undefined);
    await saveUser(path, { name: 'alice', passwordHash: hashA });
    touch(path, 1_700_000_000);
    assert.equal(watcher.lookup('alice')?.passwordHash, hashA);
  });
});
