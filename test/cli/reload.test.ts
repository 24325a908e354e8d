/**
 * Hot reload under the real `ferry serve`: SIGHUP re-reads the config file, and an open
 * session's next command follows it (a new passive range), new connections get the new
 * banner, a key only a restart applies (port) is reported and keeps its running value,
 * and a broken file changes nothing while the log names the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLinesIn } from '../helpers/server-log.js';
import { serveWithConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { stopChild } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { waitFor } from '../helpers/timing.js';
import { addUser } from '../helpers/users-file.js';
import { findFreePortRange, passivePort } from '../integration/support.js';

const scratch = scratchDirForFile('ferry-cli-reload-');


function configLines(options: { ports: string; banner: string; port?: number; top?: string[]; extra?: string[] }): string[] {
  return [
    'host = "127.0.0.1"',
    `port = ${options.port ?? 0}`,
    `banner = "${options.banner}"`,
    ...(options.top ?? []),
    '[anonymous]',
    'enabled = true',
    'root = "pub"',
    '[passive]',
    `ports = "${options.ports}"`,
    '[log]',
    'format = "json"',
    'level = "info"',
    ...(options.extra ?? []),
  ];
}

test('SIGHUP: the next command of an open session follows the new file; restart-only keys are reported; a broken file changes nothing', async () => {
  const dir = join(scratch(), 'sighup');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  const first = await findFreePortRange(4);
  let second = await findFreePortRange(4);
  while (second.min <= first.max && first.min <= second.max) second = await findFreePortRange(4);
  const { child, port, log } = await serveWithConfig(dir, configLines({ ports: first.spec, banner: 'Banner one.' }));
  const config = join(dir, 'ferry.toml');
  const reload = async (lines: string[], msg: string, count: number) => {
    writeFileSync(config, lines.join('\n'));
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => logLinesIn(log(), msg).length === count, 10_000), `no "${msg}" line: ${log()}`);
  };
  try {
    const session = await FtpConnection.login('127.0.0.1', port, 'anonymous', 'a@example.com');
    const before = passivePort(await session.expect('PASV', 227));
    assert.ok(before >= first.min && before <= first.max, `PASV port ${before} outside ${first.spec}`);
    session.close();

    const open = await FtpConnection.login('127.0.0.1', port, 'anonymous', 'a@example.com');
    try {
      await reload(configLines({ ports: second.spec, banner: 'Banner two.', port: 2 }), 'config reloaded', 1);
      const [reloaded] = logLinesIn(log(), 'config reloaded');
      assert.deepEqual([...(reloaded!.changed as string[])].sort(), ['banner', 'passive.ports', 'port']);
      const [restart] = logLinesIn(log(), 'config reload: these keys apply at the next restart; until then they keep their running values');
      assert.deepEqual(restart!.keys, ['port']);
      // The session opened before the reload: its next PASV takes a port of the new range.
      const after = passivePort(await open.expect('PASV', 227));
      assert.ok(after >= second.min && after <= second.max, `PASV port ${after} outside the new range ${second.spec}`);
      // The port stays the running one; a new connection there gets the new banner.
      const fresh = await FtpConnection.connect('127.0.0.1', port);
      assert.match(fresh.greeting.text, /Banner two\./);
      fresh.close();

      // A broken file: logged with the key, and the running config stays.
      await reload([...configLines({ ports: first.spec, banner: 'Banner three.' }), 'no_such_key = 1'], 'config reload failed; keeping the running config', 1);
      const [failed] = logLinesIn(log(), 'config reload failed; keeping the running config');
      assert.equal(failed!.code, 'FERRY_ERR_CONFIG');
      assert.match(String(failed!.reason), /no_such_key/);
      const still = passivePort(await open.expect('PASV', 227));
      assert.ok(still >= second.min && still <= second.max, `PASV port ${still}: the broken file must not apply`);
      const greeted = await FtpConnection.connect('127.0.0.1', port);
      assert.match(greeted.greeting.text, /Banner two\./);
      greeted.close();
    } finally {
      open.close();
    }
  } finally {
    await stopChild(child);
  }
});

test('SIGHUP: a lowered max_per_ip refuses the next connection; the open ones stay', async () => {
  const dir = join(scratch(), 'per-ip');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  const { spec } = await findFreePortRange(4);
  const { child, port, log } = await serveWithConfig(dir, configLines({ ports: spec, banner: 'Hello.', top: ['max_per_ip = 0'] }));
  const open: FtpConnection[] = [];
  try {
    for (let i = 0; i < 2; i++) open.push(await FtpConnection.connect('127.0.0.1', port));
    writeFileSync(join(dir, 'ferry.toml'), configLines({ ports: spec, banner: 'Hello.', top: ['max_per_ip = 2'] }).join('\n'));
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => logLinesIn(log(), 'config reloaded').length === 1, 10_000), `no reload: ${log()}`);
    const third = await FtpConnection.connect('127.0.0.1', port);
    assert.equal(third.greeting.code, 421, third.greeting.text);
    third.close();
    for (const ftp of open) await ftp.expect('NOOP', 200);
  } finally {
    for (const ftp of open) ftp.close();
    await stopChild(child);
  }
});

test("SIGHUP: a logged-in user's next upload follows the reloaded [user_defaults] quota", async () => {
  const dir = join(scratch(), 'quota');
  mkdirSync(join(dir, 'root'), { recursive: true });
  addUser(join(dir, 'users.toml'), 'alice', 'secret');
  const lines = (quotaFiles: number) => ['host = "127.0.0.1"', 'port = 0', 'root = "root"', 'users_file = "users.toml"', '[passive]', 'ports = "0"', '[log]', 'format = "json"', '[user_defaults]', `quota_files = ${quotaFiles}`];
  const { child, port, log } = await serveWithConfig(dir, lines(0));
  let ftp: FtpConnection | undefined;
  try {
    ftp = await FtpConnection.login('127.0.0.1', port, 'alice', 'secret');
    await ftp.expect('TYPE I', 200);
    assert.equal((await ftp.upload('STOR one', Buffer.from('1'))).final.code, 226);
    writeFileSync(join(dir, 'ferry.toml'), lines(1).join('\n'));
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => logLinesIn(log(), 'config reloaded').length === 1, 10_000), `no reload line: ${log()}`);
    // One file is the new limit, and this session (logged in before the reload) holds it already.
    const refused = await ftp.send('STOR two');
    assert.equal(refused.code, 552, refused.lines.join(' | '));
    assert.equal((await ftp.upload('STOR one', Buffer.from('11'))).final.code, 226, 'an overwrite adds no file');
  } finally {
    ftp?.close();
    await stopChild(child);
  }
});

test('SIGHUP that adds a site sweeps its root at once, with one process and with workers (a crashed run left an upload temp file there)', async () => {
  for (const workers of [1, 2]) {
    const dir = join(scratch(), `sweep-${workers}`);
    mkdirSync(join(dir, 'pub'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const base = configLines({ ports: '0', banner: 'Hello.', top: [`workers = ${workers}`, 'shutdown_grace = 1'] });
    const { child, log } = await serveWithConfig(dir, base);
    try {
      // Left by a run that has ended: no process has this pid (pid_max is at most 2^22).
      const leftover = join(dir, 'b', '.ferry-upload-4194305-0123456789abcdef.tmp');
      writeFileSync(leftover, 'partial upload');
      writeFileSync(join(dir, 'ferry.toml'), [...base, '[sites.b]', 'hosts = ["b.example"]', 'root = "b"'].join('\n'));
      child.kill('SIGHUP');
      assert.ok(await waitFor(() => !existsSync(leftover), 10_000), `workers = ${workers}: the temp file in the added site's root is still there:\n${log()}`);
      // Logged once it is gone: the line may come a moment after.
      assert.ok(await waitFor(() => logLinesIn(log(), 'removed a stale upload temp file').some((line) => line.path === leftover), 5000), log());
    } finally {
      await stopChild(child);
    }
  }
});
