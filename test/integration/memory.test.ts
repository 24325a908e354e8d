/**
 * Memory does not grow with file size: the server process's peak RSS while sending a
 * 10 GiB (sparse) file stays within a small margin of its peak while sending 10 MiB.
 * The server runs as its own process (the real binary) so only its memory is measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { waitForReady } from '../helpers/ferry-ready.js';
import { rssBytes } from '../helpers/process-memory.js';

const FERRY = resolve('bin/ferry.js');
const HAVE_CURL = spawnSync('curl', ['--version']).status === 0;
/** Allowed difference between the peaks: buffers are per transfer, not per byte. */
const MARGIN_BYTES = 48 * 1024 * 1024;

/** Downloads `name` with curl while sampling the server's RSS; resolves with the peak. */
async function peakRssDuring(pid: number, url: string, netrc: string): Promise<{ peak: number; bytes: number }> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 25);
  const curl = spawn('curl', ['-sS', '--netrc-file', netrc, '-o', '/dev/null', '-w', '%{size_download}', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  curl.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const killer = setTimeout(() => curl.kill(), 120_000);
  const [code] = await once(curl, 'exit');
  clearTimeout(killer);
  clearInterval(timer);
  assert.equal(code, 0, 'curl failed');
  return { peak: Math.max(peak, rssBytes(pid)), bytes: Number(out) };
}

test('a 10 GiB download holds the same server memory as a 10 MiB one', { skip: HAVE_CURL ? false : 'curl is not installed', timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-memory-'));
  const root = join(dir, 'root');
  const users = join(dir, 'users.toml');
  const netrc = join(dir, 'netrc');
  spawnSync(process.execPath, [FERRY, 'user', 'add', 'mem', '--users', users], { input: 'mem-password\n' });
  writeFileSync(netrc, 'machine 127.0.0.1 login mem password mem-password\n');
  const server = spawn(process.execPath, [FERRY, 'serve', '--host', '127.0.0.1', '--port', '0', '--root', root, '--users', users, '--passive-ports', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await waitForReady(server).port;
    // Sparse files: no disk is used, and reading them is memory-speed.
    writeFileSync(join(root, 'small.bin'), '');
    truncateSync(join(root, 'small.bin'), 10 * 2 ** 20);
    writeFileSync(join(root, 'huge.bin'), '');
    truncateSync(join(root, 'huge.bin'), 10 * 2 ** 30);
    const small = await peakRssDuring(server.pid!, `ftp://127.0.0.1:${port}/small.bin`, netrc);
    const huge = await peakRssDuring(server.pid!, `ftp://127.0.0.1:${port}/huge.bin`, netrc);
    assert.equal(small.bytes, 10 * 2 ** 20);
    assert.equal(huge.bytes, 10 * 2 ** 30);
    assert.ok(
      huge.peak <= small.peak + MARGIN_BYTES,
      `peak RSS ${Math.round(huge.peak / 2 ** 20)} MiB for 10 GiB vs ${Math.round(small.peak / 2 ** 20)} MiB for 10 MiB`,
    );
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
