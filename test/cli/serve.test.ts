/** The real `ferry` binary: embedded defaults, config errors, users file, signals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { waitForReady } from '../helpers/ferry-ready.js';

const FERRY = resolve('bin/ferry.js');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ferry-cli-'));
}

/** Starts `ferry serve` and resolves once its ready line names the port. */
async function startFerry(args: string[], cwd: string): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
  const child = spawn(process.execPath, [FERRY, 'serve', '--port', '0', '--host', '127.0.0.1', '--passive-ports', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => { if (process.env.FERRY_CLI_DEBUG) process.stderr.write(t); });
  const ready = waitForReady(child);
  const port = await ready.port;
  return { child, port, stdout: ready.output };
}

async function stopFerry(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  if (!child.killed) child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

test('serve with no config creates ./ftp-root and prints a working generated login', async () => {
  const dir = tempDir();
  const ferry = await startFerry([], dir);
  try {
    assert.ok(existsSync(join(dir, 'ftp-root')), 'ftp-root created');
    const match = /user "ferry", password "([^"]+)"/.exec(ferry.stdout());
    assert.ok(match, ferry.stdout());
    const ftp = await FtpConnection.login('127.0.0.1', ferry.port, 'ferry', match[1]!);
    await ftp.expect('MKD made-by-test', 257);
    await ftp.quit();
    assert.ok(statSync(join(dir, 'ftp-root', 'made-by-test')).isDirectory());
    const wrong = await FtpConnection.connect('127.0.0.1', ferry.port);
    await wrong.expect('USER ferry', 331);
    await wrong.expect('PASS not-the-password', 530);
    await wrong.quit();
  } finally {
    assert.equal(await stopFerry(ferry.child), 0, 'SIGTERM exits 0');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM tells idle sessions 421 and exits', async () => {
  const dir = tempDir();
  const ferry = await startFerry(['--anonymous'], dir);
  try {
    const ftp = await FtpConnection.login('127.0.0.1', ferry.port, 'anonymous', 'guest@example.com');
    ferry.child.kill('SIGTERM');
    const reply = await ftp.read();
    assert.equal(reply.code, 421);
    assert.equal(await ftp.closedByServer(), true);
  } finally {
    assert.equal(await stopFerry(ferry.child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad config key is named and exits with status 2', () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'ferry.toml');
    writeFileSync(file, 'port = 2121\n[passive]\nportz = "1-2"\n');
    const unknown = spawnSync(process.execPath, [FERRY, 'serve', '--config', file], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /passive\.portz/);

    writeFileSync(file, 'port = "twenty"\n');
    const badType = spawnSync(process.execPath, [FERRY, 'serve', '--config', file], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(badType.status, 2);
    assert.match(badType.stderr, /port/);

    writeFileSync(file, 'port = = 3\n');
    const syntax = spawnSync(process.execPath, [FERRY, 'serve', '--config', file], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(syntax.status, 2);
    assert.match(syntax.stderr, /line 1/);

    const badFlag = spawnSync(process.execPath, [FERRY, 'serve', '--passive-ports', '9-3'], { encoding: 'utf8', timeout: 15_000, cwd: dir });
    assert.equal(badFlag.status, 2);
    assert.match(badFlag.stderr, /passive\.ports/);

    const missing = spawnSync(process.execPath, [FERRY, 'serve', '--config', join(dir, 'nope.toml')], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(missing.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --help documents every flag and config key', () => {
  const help = spawnSync(process.execPath, [FERRY, 'serve', '--help'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(help.status, 0);
  for (const flag of ['--config', '--host', '--port', '--root', '--passive-ports', '--masquerade', '--users', '--anonymous', '--log-format']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  for (const key of ['users_file', 'max_clients', 'ports', 'address', 'promiscuous', 'connect_from_port_20', 'data_connect', 'idle', 'banner']) {
    assert.ok(help.stdout.includes(key), key);
  }
});

test('user add stores a scrypt hash (never the password) and serve --users logs the user in', async () => {
  const dir = tempDir();
  const users = join(dir, 'users.toml');
  try {
    const add = spawnSync(process.execPath, [FERRY, 'user', 'add', 'carol', '--users', users, '--home', join(dir, 'carol-home')], {
      input: 'correct horse battery\n',
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(add.status, 0, add.stderr);
    const text = readFileSync(users, 'utf8');
    assert.ok(!text.includes('correct horse'), 'no clear-text password');
    assert.match(text, /scrypt\$/);
    assert.equal(statSync(users).mode & 0o777, 0o600);

    const readOnly = spawnSync(process.execPath, [FERRY, 'user', 'add', 'dave', '--users', users, '--read-only'], { input: 'pw-dave\n', encoding: 'utf8', timeout: 15_000 });
    assert.equal(readOnly.status, 0, readOnly.stderr);

    const ferry = await startFerry(['--users', users, '--root', join(dir, 'root')], dir);
    try {
      const carol = await FtpConnection.login('127.0.0.1', ferry.port, 'carol', 'correct horse battery');
      await carol.expect('MKD inside', 257);
      await carol.quit();
      assert.ok(existsSync(join(dir, 'carol-home', 'inside')), 'carol is jailed to her home');
      const dave = await FtpConnection.login('127.0.0.1', ferry.port, 'dave', 'pw-dave');
      await dave.expect('MKD nope', 550);
      await dave.quit();
    } finally {
      assert.equal(await stopFerry(ferry.child), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --check prints each start-up check with its key and exits 0 when only warnings are found', () => {
  const dir = tempDir();
  try {
    const config = join(dir, 'ferry.toml');
    writeFileSync(config, ['host = "127.0.0.1"', 'max_clients = 50', '[passive]', 'ports = "50000-50009"', '[active]', 'promiscuous = true'].join('\n'));
    const result = spawnSync(process.execPath, [FERRY, 'serve', '--check', '--config', config], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Ferry start-up checks \(config .*ferry\.toml\)$/m);
    assert.match(result.stdout, /^ {2}warn +passive\.address +the server has only private or loopback IPv4 addresses \(127\.0\.0\.1\)/m);
    assert.match(result.stdout, /^ {2}warn +passive\.ports +10 passive ports \(50000-50009\) for max_clients = 50/m);
    assert.match(result.stdout, /^ {2}warn +active\.promiscuous +bounce protection is off/m);
    assert.match(result.stdout, /^0 error\(s\), 4 warning\(s\)$/m);
    assert.ok(!existsSync(join(dir, 'ftp-root')), '--check starts nothing and creates nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
