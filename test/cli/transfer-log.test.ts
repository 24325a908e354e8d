/**
 * The transfer log under the real `ferry serve`: SIGHUP reopens it (logrotate renames
 * the file, the next line goes to a new one), and a path that cannot be opened is a
 * config error naming log.transfers (exit 2) before anything listens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_BIN } from '../client/support.js';
import { serveWithConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { stopChild } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import { waitFor } from '../helpers/timing.js';
import { parseXferlog } from '../helpers/xferlog.js';

const scratch = scratchDirForFile('ferry-cli-transfer-log-');

function linesOf(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : [];
}

async function anonymousDownload(port: number, name: string): Promise<void> {
  const ftp = await FtpConnection.login('127.0.0.1', port, 'anonymous', 'a@example.com');
  assert.equal((await ftp.download(`RETR ${name}`)).final.code, 226);
  await ftp.quit();
}

test('SIGHUP reopens the transfer log: after a rename the next line goes to a new file', async () => {
  const dir = join(scratch(), 'sighup');
  mkdirSync(join(dir, 'pub'), { recursive: true });
  writeFileSync(join(dir, 'pub', 'one.txt'), 'one');
  writeFileSync(join(dir, 'pub', 'two.txt'), 'two');
  const log = join(dir, 'xferlog');
  const { child, port } = await serveWithConfig(dir, ['host = "127.0.0.1"', 'port = 0', '[anonymous]', 'enabled = true', 'root = "pub"', '[passive]', 'ports = "0"', '[log]', 'transfers = "xferlog"']);
  try {
    await anonymousDownload(port, '/one.txt');
    assert.ok(await waitFor(() => linesOf(log).length === 1), 'no line for the first download');
    renameSync(log, `${log}.1`);
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => existsSync(log)), 'SIGHUP did not reopen the log at its path');
    await anonymousDownload(port, '/two.txt');
    assert.ok(await waitFor(() => linesOf(log).length === 1), 'no line in the new file');
    assert.deepEqual(linesOf(`${log}.1`).map((line) => parseXferlog(line).filename), ['/one.txt']);
    const second = parseXferlog(linesOf(log)[0]!);
    assert.deepEqual([second.filename, second.accessMode, second.username, second.status], ['/two.txt', 'a', 'anonymous', 'c']);
  } finally {
    await stopChild(child);
  }
});

test('a transfer log path that cannot be opened exits 2 naming log.transfers, before listening', () => {
  const dir = join(scratch(), 'unwritable');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a-file'), '');
  const config = join(dir, 'ferry.toml');
  writeFileSync(config, ['host = "127.0.0.1"', 'port = 0', 'root = "root"', '[passive]', 'ports = "0"', '[log]', 'transfers = "a-file/xferlog"'].join('\n'));
  const run = spawnSync(process.execPath, [FERRY_BIN, 'serve', '--config', config], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /log\.transfers/);
  assert.ok(run.stderr.includes(join(dir, 'a-file', 'xferlog')), run.stderr);
  assert.doesNotMatch(run.stdout, /ready on/);
});
