/** `ferry serve --admin-listen` and `[admin] listen` in the real binary: the URL it prints, a site that sets it, a port in use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FERRY_BIN } from '../client/support.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { scrape } from '../helpers/prometheus.js';

const BASE_ARGS = ['serve', '--host', '127.0.0.1', '--port', '0', '--passive-ports', '0', '--anonymous'];

function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-metrics-cli-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('--admin-listen: the ready line prints the metrics URL, which counts the sessions', () =>
  withTempDir(async (dir) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...BASE_ARGS, '--admin-listen', '127.0.0.1:0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.resume();
    try {
      const ready = waitForReady(child);
      const port = await ready.port;
      const url = /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(ready.output());
      assert.ok(url, ready.output());
      const admin = { host: '127.0.0.1', port: Number(url[1]) };
      const ftp = await FtpConnection.login('127.0.0.1', port, 'anonymous', 'guest@example.com');
      const samples = await scrape(admin);
      assert.equal(samples.get('ferry_sessions_active'), 1);
      assert.equal(samples.get('ferry_logins_total{outcome="success"}'), 1);
      assert.ok(samples.has('ferry_nodejs_eventloop_lag_seconds'));
      assert.ok(samples.has('ferry_process_cpu_seconds_total'));
      await ftp.quit();
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }));

test('[sites.NAME.admin] is refused with status 2, naming the key', () =>
  withTempDir((dir) => {
    const config = join(dir, 'ferry.toml');
    writeFileSync(config, '[sites.x]\nhosts = ["x.example"]\n[sites.x.admin]\nlisten = "127.0.0.1:0"\n');
    const run = spawnSync(process.execPath, [FERRY_BIN, 'serve', '--config', config], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /sites\.x\.admin: set on the top level only/);
  }));

test('an admin port in use: the start fails with a message naming admin.listen', () =>
  withTempDir(async (dir) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    try {
      const child = spawn(process.execPath, [FERRY_BIN, ...BASE_ARGS, '--admin-listen', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      child.stdout!.resume();
      const [code] = await once(child, 'exit');
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`^ferry: admin\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, 'm'));
    } finally {
      blocker.close();
    }
  }));
