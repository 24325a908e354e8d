/**
 * REST and APPE edge cases over the wire: a restart offset beyond the end is 554 before
 * 150 (nothing created, nothing grown), and APPE or REST+STOR that fills the disk
 * answers 452 and leaves the file at its previous size (a real 2 MiB tmpfs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { login } from './support.js';

const MIB = 1024 * 1024;

describe('REST beyond the end', () => {
  let server: TestServer;
  let ftp: FtpConnection;

  before(async () => {
    server = await startServer();
    writeFileSync(join(server.root, 'small.txt'), 'twelve bytes');
    ftp = await login(server);
    await ftp.expect('TYPE I', 200);
  });

  after(async () => {
    await ftp.quit();
    await server.stop();
  });

  test('REST 1000000000000 + STOR of an existing file: 554, no sparse file', async () => {
    await ftp.expect('EPSV', 229);
    await ftp.expect('REST 1000000000000', 350);
    await ftp.expect('STOR small.txt', 554);
    assert.equal(statSync(join(server.root, 'small.txt')).size, 12);
    await ftp.expect('NOOP', 200);
  });

  test('REST 999999999999999 + STOR of a missing file: 554, nothing created', async () => {
    await ftp.expect('EPSV', 229);
    await ftp.expect('REST 999999999999999', 350);
    await ftp.expect('STOR new.txt', 554);
    assert.equal(existsSync(join(server.root, 'new.txt')), false);
    assert.deepEqual(readdirSync(server.root).sort(), ['small.txt']);
  });

  test('REST at the end + STOR appends', async () => {
    await ftp.expect('REST 12', 350);
    const result = await ftp.upload('STOR small.txt', Buffer.from('!'));
    assert.equal(result.final.code, 226);
    assert.equal(statSync(join(server.root, 'small.txt')).size, 13);
  });
});

/** A server that stops reading a refused upload resets its data connection: that is expected here. */
class TolerantConnection extends FtpConnection {
  protected override keepDataErrors = true;
}

/** Mounts a 2 MiB tmpfs over `dir`; false (with the reason) when mounting is not allowed. */
function mountSmallTmpfs(dir: string): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'mounting a tmpfs needs Linux and root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return false;
  } catch (error) {
    return `mount -t tmpfs is not permitted here: ${(error as Error).message.split('\n')[0]}`;
  }
}

describe('full disk during APPE and REST+STOR', () => {
  let server: TestServer;
  let ftp: TolerantConnection | undefined;
  let skip: string | false = false;
  let mounted = false;

  before(async () => {
    server = await startServer();
    skip = mountSmallTmpfs(server.root);
    if (skip) return;
    mounted = true;
    writeFileSync(join(server.root, 'data.bin'), Buffer.alloc(MIB, 'a'));
    ftp = await TolerantConnection.login(server.host, server.port, USER, PASSWORD);
    await ftp.expect('TYPE I', 200);
  });

  // The tmpfs comes off even when a test or the setup failed: unmounted first, since
  // stop() removes the server's folders, the mount point among them.
  after(async () => {
    try {
      await ftp?.quit();
    } finally {
      try {
        if (mounted) execFileSync('umount', [server.root]);
      } finally {
        await server?.stop();
      }
    }
  });

  test('APPE that fills the disk: 452 and the previous size', async (t) => {
    if (skip) return t.skip(skip);
    const result = await ftp!.upload('APPE data.bin', Buffer.alloc(3 * MIB, 'b'));
    assert.equal(result.final.code, 452, result.final.lines.join(' | '));
    assert.equal(statSync(join(server.root, 'data.bin')).size, MIB);
  });

  test('REST+STOR that fills the disk: 452 and the previous size', async (t) => {
    if (skip) return t.skip(skip);
    await ftp!.expect(`REST ${MIB / 2}`, 350);
    const result = await ftp!.upload('STOR data.bin', Buffer.alloc(3 * MIB, 'c'));
    assert.equal(result.final.code, 452, result.final.lines.join(' | '));
    assert.equal(statSync(join(server.root, 'data.bin')).size, MIB);
  });

  test('APPE to a new file that fills the disk: 452 and no file', async (t) => {
    if (skip) return t.skip(skip);
    const result = await ftp!.upload('APPE fresh.bin', Buffer.alloc(3 * MIB, 'd'));
    assert.equal(result.final.code, 452, result.final.lines.join(' | '));
    assert.equal(existsSync(join(server.root, 'fresh.bin')), false);
  });
});
