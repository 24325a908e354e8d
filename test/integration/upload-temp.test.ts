/**
 * Upload temp files: a server killed (-9) during a STOR leaves a temp file; the next
 * start removes it and the previous file is intact. The temp prefix is reserved: no
 * client command can create, open, remove, rename or see such a name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { killOnExit, stopChild } from '../helpers/run-process.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { login, parseList, uploadTempFiles } from './support.js';

const FERRY = resolve('bin/ferry.js');
const OLD = 'the previous content, which must survive';

async function startFerry(root: string): Promise<{ child: ChildProcess; port: number; password: string; stderr: () => string }> {
  const child = spawn(process.execPath, [FERRY, 'serve', '--port', '0', '--host', '127.0.0.1', '--passive-ports', '0', '--root', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));
  try {
    const ready = waitForReady(child);
    const port = await ready.port;
    const password = /password "([^"]+)"/.exec(ready.output())![1]!;
    return { child, port, password, stderr: () => stderr };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** Starts a STOR of `path`, sends some bytes, and leaves it running. */
async function startUpload(ftp: FtpConnection, path: string): Promise<void> {
  const connect = await ftp.prepareData('EPSV');
  await ftp.expect(`STOR ${path}`, 150);
  const data = await connect();
  data.on('error', () => undefined);
  data.write(Buffer.alloc(256 * 1024, 'x'));
}

test('temp files of a server killed during STOR are removed at the next start; the old files are intact', { timeout: 30_000 }, async () => {
  const scratch = scratchDir('ferry-upload-temp-');
  const root = join(scratch.dir, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'keep.txt'), OLD);
  writeFileSync(join(root, 'sub', 'keep.txt'), OLD);
  let first: Awaited<ReturnType<typeof startFerry>> | undefined;
  const clients: FtpConnection[] = [];
  try {
    first = await startFerry(root);
    clients.push(await FtpConnection.login('127.0.0.1', first.port, 'ferry', first.password), await FtpConnection.login('127.0.0.1', first.port, 'ferry', first.password));
    await startUpload(clients[0]!, 'keep.txt');
    await startUpload(clients[1]!, 'sub/keep.txt');
    const written = (dir: string) => uploadTempFiles(dir).some((name) => statSync(join(dir, name)).size > 0);
    assert.ok(await waitFor(() => written(root) && written(join(root, 'sub'))), 'the uploads reached their temp files');
    const killed = first.child;
    const exited = once(killed, 'exit');
    killed.kill('SIGKILL');
    await exited;
    for (const ftp of clients) ftp.close();
    assert.equal(uploadTempFiles(root).length, 1, 'the crash left a temp file');
    assert.match(uploadTempFiles(root)[0]!, new RegExp(`^\\.ferry-upload-${killed.pid}-[0-9a-f]+\\.tmp$`));

    const second = await startFerry(root);
    try {
      assert.deepEqual(uploadTempFiles(root), []);
      assert.deepEqual(uploadTempFiles(join(root, 'sub')), []);
      assert.equal(readFileSync(join(root, 'keep.txt'), 'utf8'), OLD);
      assert.equal(readFileSync(join(root, 'sub', 'keep.txt'), 'utf8'), OLD);
      assert.match(second.stderr(), /removed a stale upload temp file/);
      // The restarted server works as usual.
      const ftp = await FtpConnection.login('127.0.0.1', second.port, 'ferry', second.password);
      assert.equal((await ftp.upload('STOR keep.txt', Buffer.from('new'))).final.code, 226);
      await ftp.quit();
      assert.equal(readFileSync(join(root, 'keep.txt'), 'utf8'), 'new');
    } finally {
      await stopChild(second.child);
    }
  } finally {
    // When an assertion failed before the kill: the first server and its clients too.
    for (const ftp of clients) ftp.close();
    if (first) await stopChild(first.child);
    scratch.remove();
  }
});

test('names with the temp prefix are refused (553) for every command and never listed', async () => {
  const server = await startServer();
  const reserved = '.ferry-upload-x.tmp';
  writeFileSync(join(server.root, reserved), 'hidden');
  writeFileSync(join(server.root, 'plain.txt'), 'plain');
  mkdirSync(join(server.root, 'dir'));
  let ftp: FtpConnection | undefined;
  try {
    ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    for (const command of [
      `STOR ${reserved}`,
      `APPE ${reserved}`,
      `STOR dir/${reserved}`,
      `STOR ${reserved}/inner.txt`,
      `RETR ${reserved}`,
      `SIZE ${reserved}`,
      `MDTM ${reserved}`,
      `DELE ${reserved}`,
      `MKD ${reserved}`,
      `MKD dir/.ferry-upload-dir`,
      `RMD ${reserved}`,
      `CWD ${reserved}`,
      `RNFR ${reserved}`,
      `STOU ${reserved}`,
    ]) {
      assert.equal((await ftp.send(command)).code, 553, command);
    }
    await ftp.expect('RNFR plain.txt', 350);
    await ftp.expect(`RNTO ${reserved}`, 553);
    await ftp.expect('RNFR plain.txt', 350);
    await ftp.expect('RNTO dir/.ferry-upload-7-ab.tmp', 553);
    const names = parseList((await ftp.download('LIST -a')).data).map((entry) => entry.name);
    assert.ok(!names.includes(reserved), names.join(','));
    assert.equal(readFileSync(join(server.root, reserved), 'utf8'), 'hidden');
    assert.ok(existsSync(join(server.root, 'plain.txt')));
    assert.deepEqual(readdirSync(join(server.root, 'dir')), []);
  } finally {
    await ftp?.quit();
    await server.stop();
  }
});
