/**
 * `ferry user add|passwd|set|remove|list` as an admin runs it: the real binary on temporary
 * users files (stdout, stderr, exit status, the file on disk), and users it made logging in
 * to a running `ferry serve`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readUsersFile } from '../../src/auth/users-file.js';
import { FERRY_BIN } from '../client/support.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { describeRun, killOnExit, stopChild, type ProcessResult } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { ferryUser } from '../helpers/users-file.js';

const scratch = scratchDirForFile('ferry-user-cli-');
let fileCount = 0;

/** A fresh users-file path (the file does not exist yet). */
function usersFile(): string {
  const dir = join(scratch(), `case-${++fileCount}`);
  mkdirSync(dir);
  return join(dir, 'users.toml');
}

function stdout(result: ProcessResult): string {
  return result.stdout.toString('utf8');
}

async function ok(args: readonly string[], stdin?: string): Promise<ProcessResult> {
  const result = await ferryUser(args, stdin);
  assert.equal(result.code, 0, describeRun(`ferry user ${args.join(' ')}`, result));
  return result;
}

async function fails(args: readonly string[], code: number, message: RegExp, stdin?: string): Promise<void> {
  const result = await ferryUser(args, stdin);
  assert.equal(result.code, code, describeRun(`ferry user ${args.join(' ')}`, result));
  assert.match(result.stderr, message);
}

async function list(file: string): Promise<string[]> {
  return stdout(await ok(['list', '--users', file])).split('\n').filter((line) => line !== '');
}

describe('ferry user on a users file', () => {
  test('add, list, set, passwd and remove; list shows settings one user per line, never a hash', async () => {
    const file = usersFile();
    const home = join(file, '..', 'homes', 'alice');
    const added = await ok(['add', 'alice', '--users', file, '--home', home, '--permissions', 'list,read', '--tls', 'required', '--quota-bytes', '10M'], 'alice-pw\n');
    assert.equal(stdout(added), `user alice added to ${file}\n`);
    assert.ok(statSync(home).isDirectory(), 'the home is created');
    await ok(['add', 'bob', '--users', file, '--read-only', '--upload-rate', '1.5k', '--max-sessions', '2'], 'bob-pw\n');
    assert.deepEqual(await list(file), [
      `alice home=${home} permissions=list,read tls=required quota_bytes=10485760`,
      'bob read_only=true upload_rate=1536 max_sessions=2',
    ]);

    const hashBefore = readUsersFile(file).get('bob')!.passwordHash;
    const set = await ok(['set', 'bob', '--users', file, '--quota-files', '0', '--unset', 'upload_rate']);
    assert.equal(stdout(set), `user bob updated in ${file}: quota_files set; upload_rate removed; read_only, max_sessions kept\n`);
    assert.equal(readUsersFile(file).get('bob')!.passwordHash, hashBefore, 'set leaves the password alone');
    assert.deepEqual(await list(file), [`alice home=${home} permissions=list,read tls=required quota_bytes=10485760`, 'bob read_only=true quota_files=0 max_sessions=2']);

    const passwd = await ok(['passwd', 'bob', '--users', file], 'bob-new\n');
    assert.equal(stdout(passwd), `password of bob replaced in ${file}\n`);
    assert.notEqual(readUsersFile(file).get('bob')!.passwordHash, hashBefore);
    assert.equal((await list(file))[1], 'bob read_only=true quota_files=0 max_sessions=2', 'passwd leaves the settings alone');

    assert.equal(stdout(await ok(['remove', 'alice', '--users', file])), `user alice removed from ${file}\n`);
    assert.deepEqual(await list(file), ['bob read_only=true quota_files=0 max_sessions=2']);

    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('bob-new') && !text.includes('bob-pw'), 'no clear-text password in the file');
    for (const line of await list(file)) assert.doesNotMatch(line, /scrypt|password/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(file, '..')).sort(), ['homes', 'users.toml'], 'no temporary file left');
  });

  test('add on an existing user replaces the password, keeps every other setting unless a flag changes it, and says so', async () => {
    const file = usersFile();
    const home = join(file, '..', 'carol');
    await ok(['add', 'carol', '--users', file, '--home', home, '--read-only', '--tls', 'login', '--download-rate', '2M'], 'first\n');
    const hashBefore = readUsersFile(file).get('carol')!.passwordHash;
    const again = await ok(['add', 'carol', '--users', file, '--tls', 'required'], 'second\n');
    assert.equal(stdout(again), `user carol updated in ${file}: password replaced; tls set; home, read_only, download_rate kept\n`);
    assert.deepEqual(await list(file), [`carol home=${home} read_only=true tls=required download_rate=2097152`]);
    assert.notEqual(readUsersFile(file).get('carol')!.passwordHash, hashBefore);

    const writable = await ok(['add', 'carol', '--users', file, '--permissions', 'list,read,write'], 'third\n');
    assert.match(stdout(writable), /: password replaced; permissions set; read_only removed; home, tls, download_rate kept\n$/);
  });

  test('settings written by hand and other users survive an edit', async () => {
    const file = usersFile();
    await ok(['add', 'dave', '--users', file], 'dave-pw\n');
    const hash = readUsersFile(file).get('dave')!.passwordHash;
    writeFileSync(file, `[users.dave]\npassword = "${hash}"\ncharset = "gbk"\n\n[users.erin]\npassword = "${hash}"\nmax_sessions = 1\n`, { mode: 0o600 });
    await ok(['set', 'dave', '--users', file, '--quota-bytes', '1G']);
    assert.deepEqual(await list(file), ['dave charset=gbk quota_bytes=1073741824', 'erin max_sessions=1']);
  });

  test('passwd, set and remove of a user that is not there: exit 1 naming the user, file unchanged', async () => {
    const file = usersFile();
    await ok(['add', 'frank', '--users', file], 'frank-pw\n');
    const before = readFileSync(file, 'utf8');
    await fails(['passwd', 'nobody', '--users', file], 1, new RegExp(`no user nobody in ${file}`), 'pw\n');
    await fails(['set', 'nobody', '--users', file, '--tls', 'off'], 1, /no user nobody in/);
    await fails(['remove', 'nobody', '--users', file], 1, /no user nobody in/);
    assert.equal(readFileSync(file, 'utf8'), before);
    await fails(['list', '--users', join(file, '..', 'missing.toml')], 1, /no users file .*missing\.toml/);
  });

  test('bad flag values name the flag and exit 2, before any password is read or the file is written', async () => {
    const file = usersFile();
    await ok(['add', 'gina', '--users', file], 'gina-pw\n');
    const before = readFileSync(file, 'utf8');
    const cases: [string[], RegExp][] = [
      [['--quota-bytes', '-1'], /--quota-bytes: not a number of bytes: -1/],
      [['--quota-bytes', '10MB'], /--quota-bytes: /],
      [['--upload-rate', 'fast'], /--upload-rate: not a number of bytes per second: fast/],
      [['--quota-files', '1.5'], /--quota-files: not a whole number/],
      [['--max-sessions', '-2'], /--max-sessions: not a whole number/],
      [['--permissions', 'list,exec'], /--permissions: expected a comma list of list,read,write,delete,rename,mkdir, not exec/],
      [['--read-only', '--permissions', 'list'], /choose one of --read-only and --permissions/],
      [['--tls', 'sometimes'], /--tls <mode>.*sometimes.*invalid/],
      [['--charset', 'utf16'], /--charset: expected a charset/],
      [['--unset', 'password'], /--unset: expected a comma list of .*, not password/],
      [['--unset', 'tls', '--tls', 'off'], /--unset tls: also given a value/],
    ];
    for (const [flags, message] of cases) {
      await fails(['set', 'gina', '--users', file, ...flags], 2, message);
      await fails(['add', 'gina', '--users', file, ...flags], 2, message, 'pw\n');
    }
    await fails(['set', 'gina', '--users', file], 2, /nothing to change/);
    await fails(['add', 'bad name', '--users', file], 2, /user names are 1-64 characters/, 'pw\n');
    await fails(['add', 'gina', '--users', file], 1, /empty password/, '\n');
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  test('a user named like the anonymous login is saved with a warning that anonymous access takes the name first', async () => {
    const file = usersFile();
    for (const name of ['ftp', 'Anonymous']) {
      const added = await ok(['add', name, '--users', file], 'pw\n');
      assert.match(added.stderr, new RegExp(`warning: "${name}" is an anonymous login name: while \\[anonymous\\] is enabled .* never as this user`));
      const set = await ok(['set', name, '--users', file, '--read-only']);
      assert.match(set.stderr, /warning: .* anonymous login name/);
    }
    const plain = await ok(['add', 'ftpuser', '--users', file], 'pw\n');
    assert.equal(plain.stderr, '');
  });
});

/** `ferry serve --users FILE` on a free loopback port. */
async function serveUsers(file: string, root: string): Promise<{ port: number; stop: () => Promise<void> }> {
  mkdirSync(root, { recursive: true });
  const child = spawn(process.execPath, [FERRY_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--passive-ports', '0', '--root', root, '--users', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  child.stderr!.resume();
  const port = await waitForReady(child).port;
  return { port, stop: () => stopChild(child) };
}

describe('users made with ferry user, on a running server', () => {
  test('add --read-only logs in and is refused STOR with 550; passwd changes which password logs in, without a restart', async () => {
    const file = usersFile();
    const root = join(file, '..', 'root');
    await ok(['add', 'hank', '--users', file, '--read-only'], 'hank-first\n');
    const server = await serveUsers(file, root);
    try {
      const hank = await FtpConnection.login('127.0.0.1', server.port, 'hank', 'hank-first');
      await hank.expect('EPSV', 229);
      await hank.expect('STOR planted.txt', 550);
      await hank.quit();
      assert.deepEqual(readdirSync(root), [], 'nothing stored');

      await ok(['passwd', 'hank', '--users', file], 'hank-second\n');
      const old = await FtpConnection.connect('127.0.0.1', server.port);
      await old.expect('USER hank', 331);
      await old.expect('PASS hank-first', 530);
      old.close();
      const fresh = await FtpConnection.login('127.0.0.1', server.port, 'hank', 'hank-second');
      await fresh.expect('STOR planted.txt', 550);
      await fresh.quit();
    } finally {
      await server.stop();
    }
  });
});
