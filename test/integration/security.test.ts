/**
 * Security properties: the root jail (".." and symlinks), FTP bounce protection for
 * PORT/EPRT, passive data-connection theft, read-only and anonymous users, and atomic
 * uploads that never leave a half-written file behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, READONLY_USER, startServer, type TestServer } from '../helpers/server.js';
import { encodeHostPort } from '../../src/protocol/address.js';
import { sha256 } from '../helpers/data.js';
import { waitFor } from '../helpers/timing.js';
import { withBlockedOpener } from '../helpers/fifo.js';
import { CAN_VERIFY_DESCRIPTORS } from '../../src/storage/jail.js';
import { connectSocket, lines, login, parseList, parseMlsx, passivePort, readAll, uploadTempFiles } from './support.js';

describe('root jail', () => {
  let server: TestServer;
  let outside: string;
  let outsideDir: string;
  let ftp: FtpConnection;

  before(async () => {
    server = await startServer();
    // The parent of the root is the test server's private folder: outside the jail.
    outside = join(dirname(server.root), 'outside-secret.txt');
    outsideDir = join(dirname(server.root), 'outside-dir');
    writeFileSync(outside, 'TOP SECRET');
    mkdirSync(outsideDir);
    writeFileSync(join(outsideDir, 'inner.txt'), 'SECRET INNER');
    writeFileSync(join(server.root, 'public.txt'), 'public');
    mkdirSync(join(server.root, 'pub'));
    symlinkSync(outside, join(server.root, 'escape.txt'));
    symlinkSync(outsideDir, join(server.root, 'escape-dir'));
    symlinkSync(join(server.root, 'public.txt'), join(server.root, 'inside-link.txt'));
    symlinkSync('../public.txt', join(server.root, 'pub', 'relative-link.txt'));
    ftp = await login(server);
    await ftp.expect('TYPE I', 200);
  });

  after(async () => {
    await ftp.quit();
    await server.stop();
  });

  test('".." cannot climb out of the root', async () => {
    await ftp.expect('RETR ../../etc/passwd', 550);
    await ftp.expect('RETR /../../../etc/hostname', 550);
    await ftp.expect('RETR ../outside-secret.txt', 550);
    await ftp.expect('SIZE ../../../../etc/passwd', 550);
    await ftp.expect('CWD /etc', 550);
    await ftp.expect('CWD ../..', 250);
    assert.equal((await ftp.expect('PWD', 257)).text, '"/" is the current directory.');
    await ftp.expect('CWD pub', 250);
    await ftp.expect('CWD ../../../..', 250);
    assert.equal((await ftp.expect('PWD', 257)).text, '"/" is the current directory.');
    // LIST of ../.. lists the root, not the host's folders.
    const names = parseList((await ftp.download('LIST ../..')).data).map((e) => e.name);
    assert.ok(names.includes('public.txt'), names.join(','));
    assert.ok(!names.includes('outside-secret.txt'));
    // Writes with ".." land inside the root (or fail), never outside.
    const up = await ftp.upload('STOR ../../climbed.txt', Buffer.from('x'));
    assert.equal(up.final.code, 226);
    assert.ok(existsSync(join(server.root, 'climbed.txt')));
    assert.equal(existsSync(join(dirname(server.root), 'climbed.txt')), false);
    await ftp.expect('MKD ../../../climbed-dir', 257);
    assert.ok(existsSync(join(server.root, 'climbed-dir')));
    assert.equal(existsSync(join(dirname(server.root), 'climbed-dir')), false);
    await ftp.expect('DELE ../outside-secret.txt', 550);
    assert.ok(existsSync(outside));
  });

  test('a NUL byte in a path is refused (553)', async () => {
    await ftp.expect('RETR public.txt\0.png', 553);
    await ftp.expect('STOR nul\0name', 553);
    await ftp.expect('NOOP', 200);
  });

  test('a symlink to a file outside the root is 550 and not listed', async () => {
    await ftp.expect('RETR escape.txt', 550);
    await ftp.expect('SIZE escape.txt', 550);
    await ftp.expect('MDTM escape.txt', 550);
    await ftp.expect('MLST escape.txt', 550);
    await ftp.expect('STAT escape.txt', 550);
    await ftp.expect('RNFR escape.txt', 550);
    const list = parseList((await ftp.download('LIST')).data).map((e) => e.name);
    assert.ok(!list.includes('escape.txt'), list.join(','));
    assert.ok(!list.includes('escape-dir'), list.join(','));
    assert.ok(list.includes('inside-link.txt'), list.join(','));
    const nlst = lines((await ftp.download('NLST')).data);
    assert.ok(!nlst.includes('escape.txt') && !nlst.includes('escape-dir'), nlst.join(','));
    const mlsd = lines((await ftp.download('MLSD')).data).map((line) => parseMlsx(line).name);
    assert.ok(!mlsd.includes('escape.txt') && !mlsd.includes('escape-dir'), mlsd.join(','));
    const glob = lines((await ftp.download('NLST escape*')).data);
    assert.deepEqual(glob, []);
  });

  test('a symlink to a directory outside the root cannot be entered, listed or written through', async () => {
    await ftp.expect('CWD escape-dir', 550);
    await ftp.expect('LIST escape-dir', 550);
    await ftp.expect('MLSD escape-dir', 550);
    await ftp.expect('RETR escape-dir/inner.txt', 550);
    await ftp.expect('STOR escape-dir/planted.txt', 550);
    await ftp.expect('MKD escape-dir/planted-dir', 550);
    await ftp.expect('DELE escape-dir/inner.txt', 550);
    await ftp.expect('RNFR public.txt', 350);
    await ftp.expect('RNTO escape-dir/moved.txt', 550);
    await ftp.expect('RNFR escape-dir/inner.txt', 550);
    assert.ok(existsSync(join(server.root, 'public.txt')));
    assert.deepEqual(readdirSync(outsideDir), ['inner.txt']);
    assert.equal(readFileSync(join(outsideDir, 'inner.txt'), 'utf8'), 'SECRET INNER');
  });

  test('APPE or REST+STOR through an escaping symlink is refused; the outside file is untouched', async () => {
    await ftp.expect('APPE escape.txt', 550);
    await ftp.expect('EPSV', 229);
    await ftp.expect('REST 3', 350);
    await ftp.expect('STOR escape.txt', 550);
    await ftp.expect('ABOR', 225);
    assert.equal(readFileSync(outside, 'utf8'), 'TOP SECRET');
  });

  test('symlinks that stay inside the root work', async () => {
    assert.equal((await ftp.download('RETR inside-link.txt')).data.toString(), 'public');
    assert.equal((await ftp.download('RETR pub/relative-link.txt')).data.toString(), 'public');
  });

  test('STOR onto an escaping symlink replaces the link, never the outside file', async () => {
    const link = join(server.root, 'escape-stor.txt');
    symlinkSync(outside, link);
    const dataSocket = await ftp.prepareData('EPSV');
    const reply = await ftp.send('STOR escape-stor.txt');
    if (reply.code === 150) {
      const socket = await dataSocket();
      socket.end('overwritten?');
      await once(socket, 'close');
      assert.equal((await ftp.read()).code, 226);
      assert.equal(readFileSync(link, 'utf8'), 'overwritten?');
    } else {
      assert.equal(reply.code, 550, reply.lines.join(' | '));
    }
    assert.equal(readFileSync(outside, 'utf8'), 'TOP SECRET');
  });
});

describe('active mode bounce protection', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test('PORT/EPRT to a third address or a privileged port is refused with 504', async () => {
    const ftp = await login(server);
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.2', 40000)}`, 504);
    const natted = await ftp.expect(`PORT ${encodeHostPort('10.0.0.1', 40000)}`, 504);
    assert.equal(natted.text, 'Refusing to connect to 10.0.0.1: active mode may only connect back to your own address (127.0.0.1); behind NAT, use passive mode (PASV or EPSV).');
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 21)}`, 504);
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 1023)}`, 504);
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 1)}`, 504);
    await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 1024)}`, 200);
    await ftp.expect('EPRT |1|127.0.0.2|40000|', 504);
    await ftp.expect('EPRT |1|127.0.0.1|21|', 504);
    await ftp.expect('EPRT |1|127.0.0.1|1023|', 504);
    await ftp.expect('EPRT |2|::1|40000|', 504);
    await ftp.expect('EPRT |1|127.0.0.1|1024|', 200);
    // A refused PORT does not leave an earlier preparation behind to be used.
    await ftp.expect('ABOR', 225);
    await ftp.quit();
  });

  test('with active.promiscuous, PORT to 127.0.0.2 is accepted and used', async () => {
    const promiscuous = await startServer({ active: { promiscuous: true } });
    try {
      writeFileSync(join(promiscuous.root, 'f.txt'), 'to a third party');
      const ftp = await login(promiscuous);
      await ftp.expect('TYPE I', 200);
      const listener = createServer();
      listener.listen(0, '127.0.0.2');
      await once(listener, 'listening');
      const port = (listener.address() as AddressInfo).port;
      const accepted = once(listener, 'connection').then(([socket]) => socket as Socket);
      await ftp.expect(`PORT ${encodeHostPort('127.0.0.2', port)}`, 200);
      await ftp.expect('RETR f.txt', 150);
      const data = await readAll(await accepted);
      listener.close();
      assert.equal(data.toString(), 'to a third party');
      assert.equal((await ftp.read()).code, 226);
      await ftp.expect(`PORT ${encodeHostPort('127.0.0.1', 1023)}`, 200);
      await ftp.expect('EPRT |1|127.0.0.2|40000|', 200);
      await ftp.quit();
    } finally {
      await promiscuous.stop();
    }
  });
});

describe('passive data connection theft', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    writeFileSync(join(server.root, 'f.bin'), 'only for the real client');
  });
  after(async () => {
    await server.stop();
  });

  for (const mode of ['PASV', 'EPSV'] as const) {
    test(`${mode}: a connection from another address is refused; the real client still transfers`, async () => {
      const ftp = await login(server);
      await ftp.expect('TYPE I', 200);
      const port = passivePort(await ftp.send(mode));
      // A thief connects first, from 127.0.0.3.
      const thief = await connectSocket(server.host, port, '127.0.0.3');
      const stolen = await readAll(thief);
      assert.equal(stolen.length, 0);
      const real = await connectSocket(server.host, port);
      const received = readAll(real);
      await ftp.expect('RETR f.bin', 150);
      assert.equal((await received).toString(), 'only for the real client');
      assert.equal((await ftp.read()).code, 226);
      await ftp.quit();
    });
  }

  test('a thief connecting while the server waits for the data connection gets nothing', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const port = passivePort(await ftp.expect('PASV', 227));
    await ftp.expect('RETR f.bin', 150);
    const thief = await connectSocket(server.host, port, '127.0.0.3');
    assert.equal((await readAll(thief)).length, 0);
    const real = await connectSocket(server.host, port);
    assert.equal((await readAll(real)).toString(), 'only for the real client');
    assert.equal((await ftp.read()).code, 226);
    await ftp.quit();
  });

  test('an upload cannot be hijacked either', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE I', 200);
    const port = passivePort(await ftp.expect('EPSV', 229));
    const thief = await connectSocket(server.host, port, '127.0.0.3');
    thief.write('INJECTED');
    await readAll(thief);
    const real = await connectSocket(server.host, port);
    await ftp.expect('STOR upload.bin', 150);
    real.end('genuine');
    await once(real, 'close');
    assert.equal((await ftp.read()).code, 226);
    assert.equal(readFileSync(join(server.root, 'upload.bin'), 'utf8'), 'genuine');
    await ftp.quit();
  });

  test('with passive.promiscuous, another address may connect', async () => {
    const promiscuous = await startServer({ passive: { promiscuous: true } });
    try {
      writeFileSync(join(promiscuous.root, 'f.txt'), 'anyone');
      const ftp = await login(promiscuous);
      await ftp.expect('TYPE I', 200);
      const port = passivePort(await ftp.expect('PASV', 227));
      const other = await connectSocket(promiscuous.host, port, '127.0.0.3');
      const received = readAll(other);
      await ftp.expect('RETR f.txt', 150);
      assert.equal((await received).toString(), 'anyone');
      assert.equal((await ftp.read()).code, 226);
      await ftp.quit();
    } finally {
      await promiscuous.stop();
    }
  });
});

/** Every command that would change the file tree; a read-only user gets 550 for each. */
const WRITE_ATTEMPTS = ['STOR new.txt', 'APPE existing.txt', 'STOU', 'STOU new2.txt', 'DELE existing.txt', 'MKD newdir', 'RMD dir', 'RNFR existing.txt', 'RNTO renamed.txt', 'XMKD newdir2', 'XRMD dir'];

async function assertReadOnly(ftp: FtpConnection, root: string): Promise<void> {
  const before = readdirSync(root).sort();
  for (const command of WRITE_ATTEMPTS) {
    // Prepare a data connection so a refusal cannot be blamed on a missing one.
    await ftp.expect('EPSV', 229);
    const reply = await ftp.send(command);
    assert.equal(reply.code, 550, `${command}: ${reply.lines.join(' | ')}`);
    await ftp.expect('ABOR', 225);
  }
  // REST + STOR is a write too.
  await ftp.expect('EPSV', 229);
  await ftp.expect('REST 2', 350);
  await ftp.expect('STOR existing.txt', 550);
  await ftp.expect('ABOR', 225);
  assert.deepEqual(readdirSync(root).sort(), before);
  assert.equal(readFileSync(join(root, 'existing.txt'), 'utf8'), 'existing');
  assert.deepEqual(readdirSync(join(root, 'dir')), []);
  assert.deepEqual(uploadTempFiles(root), []);
  // Reading still works.
  await ftp.expect('TYPE I', 200);
  assert.equal((await ftp.download('RETR existing.txt')).data.toString(), 'existing');
  assert.ok(lines((await ftp.download('NLST')).data).includes('existing.txt'));
}

describe('read-only users', () => {
  test('anonymous users cannot write, delete, rename or make directories', async () => {
    const server = await startServer({ anonymous: { enabled: true } });
    try {
      writeFileSync(join(server.anonymousRoot, 'existing.txt'), 'existing');
      mkdirSync(join(server.anonymousRoot, 'dir'));
      writeFileSync(join(server.root, 'alice-only.txt'), 'private');
      for (const name of ['anonymous', 'ftp', 'ANONYMOUS']) {
        const ftp = await FtpConnection.connect(server.host, server.port);
        await ftp.expect(`USER ${name}`, 331);
        await ftp.expect('PASS guest@example.com', 230);
        await assertReadOnly(ftp, server.anonymousRoot);
        // Anonymous users see their own root only.
        await ftp.expect('RETR alice-only.txt', 550);
        await ftp.quit();
      }
    } finally {
      await server.stop();
    }
  });

  test('anonymous login is refused when anonymous access is off', async () => {
    const server = await startServer();
    try {
      const ftp = await FtpConnection.connect(server.host, server.port);
      await ftp.expect('USER anonymous', 331);
      await ftp.expect('PASS guest@example.com', 530);
      await ftp.quit();
    } finally {
      await server.stop();
    }
  });

  test('the read-only user bob cannot write either', async () => {
    const server = await startServer();
    try {
      writeFileSync(join(server.root, 'existing.txt'), 'existing');
      mkdirSync(join(server.root, 'dir'));
      const ftp = await login(server, READONLY_USER, PASSWORD);
      await assertReadOnly(ftp, server.root);
      await ftp.quit();
    } finally {
      await server.stop();
    }
  });
});

describe('atomic uploads', () => {
  let server: TestServer;
  const original = Buffer.from('the original content, which must survive');
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  /** Starts STOR of target and sends `bytes`, returning the data socket once the server has part of it. */
  async function startUpload(ftp: FtpConnection, folder: string, target: string): Promise<Socket> {
    await ftp.expect('TYPE I', 200);
    const dataSocket = await ftp.prepareData('EPSV');
    await ftp.expect(`STOR ${target}`, 150);
    const socket = await dataSocket();
    socket.write(Buffer.alloc(256 * 1024, 0x41));
    // Wait until the server is reading (bytes reach the temp file): a reset that lands
    // before the first read looks like a normal end of file to the server (Linux hands
    // back the queued bytes, then EOF), which no FTP server can tell from a finished upload.
    const started = await waitFor(() => uploadTempFiles(folder).some((name) => statSync(join(folder, name)).size > 0));
    assert.ok(started, 'the upload never started writing its temp file');
    return socket;
  }

  test('a STOR whose data connection is reset leaves the old file and no temp file', async () => {
    const folder = join(server.root, 'reset');
    mkdirSync(folder);
    writeFileSync(join(folder, 'target.bin'), original);
    const ftp = await login(server);
    await ftp.expect('CWD /reset', 250);
    const socket = await startUpload(ftp, folder, 'target.bin');
    // Meanwhile, other clients still see the old content and no temp file.
    const reader = await login(server);
    await reader.expect('TYPE I', 200);
    assert.equal(sha256((await reader.download('RETR /reset/target.bin')).data), sha256(original));
    assert.deepEqual(lines((await reader.download('NLST /reset')).data), ['target.bin']);
    await reader.quit();
    socket.resetAndDestroy();
    const reply = await ftp.read();
    assert.equal(reply.code, 426, reply.lines.join(' | '));
    assert.equal(sha256(readFileSync(join(folder, 'target.bin'))), sha256(original));
    assert.ok(await waitFor(() => uploadTempFiles(folder).length === 0), `left behind: ${uploadTempFiles(folder).join(',')}`);
    assert.deepEqual(readdirSync(folder), ['target.bin']);
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });

  test('a reset STOR of a new file creates nothing', async () => {
    const folder = join(server.root, 'reset-new');
    mkdirSync(folder);
    const ftp = await login(server);
    await ftp.expect('CWD /reset-new', 250);
    const socket = await startUpload(ftp, folder, 'new.bin');
    socket.resetAndDestroy();
    assert.equal((await ftp.read()).code, 426);
    assert.ok(await waitFor(() => readdirSync(folder).length === 0), `left behind: ${readdirSync(folder).join(',')}`);
    await ftp.quit();
  });

  test('ABOR during a STOR leaves the old file and no temp file', async () => {
    const folder = join(server.root, 'abor');
    mkdirSync(folder);
    writeFileSync(join(folder, 'target.bin'), original);
    const ftp = await login(server);
    await ftp.expect('CWD /abor', 250);
    const socket = await startUpload(ftp, folder, 'target.bin');
    const abor = await ftp.send('ABOR');
    assert.equal(abor.code, 426, abor.lines.join(' | '));
    assert.equal((await ftp.read()).code, 226);
    socket.destroy();
    assert.equal(sha256(readFileSync(join(folder, 'target.bin'))), sha256(original));
    assert.ok(await waitFor(() => uploadTempFiles(folder).length === 0), `left behind: ${uploadTempFiles(folder).join(',')}`);
    await ftp.quit();
  });

  test('a client that drops the control connection mid-STOR leaves the old file and no temp file', async () => {
    const folder = join(server.root, 'drop');
    mkdirSync(folder);
    writeFileSync(join(folder, 'target.bin'), original);
    const ftp = await login(server);
    await ftp.expect('CWD /drop', 250);
    const socket = await startUpload(ftp, folder, 'target.bin');
    ftp.socket.destroy();
    assert.ok(await waitFor(() => uploadTempFiles(folder).length === 0), `left behind: ${uploadTempFiles(folder).join(',')}`);
    socket.destroy();
    assert.equal(sha256(readFileSync(join(folder, 'target.bin'))), sha256(original));
    // The server is fine.
    const next = await login(server);
    await next.expect('NOOP', 200);
    await next.quit();
  });
});

describe('root contents that are not plain files or directories', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test(
    'a FIFO in the root is refused at once (550) instead of blocking the session',
    async () => {
      const fifo = join(server.root, 'pipe');
      execFileSync('mkfifo', [fifo]);
      const ftp = await login(server);
      try {
        await ftp.expect('SIZE pipe', 550);
        await ftp.expect('MLST pipe', 550);
        await ftp.expect('EPSV', 229);
        ftp.writeRaw('RETR pipe\r\n');
        const reply = await ftp.read(3000);
        assert.equal(reply.code, 550, reply.lines.join(' | '));
        await ftp.expect('NOOP', 200);
      } finally {
        // Unblock a server thread stuck opening the FIFO (fails harmlessly when none is).
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // no reader: nothing is blocked
        }
        await ftp.quit();
      }
    },
  );

  test(
    'RETR /pub/dev/watchdog through a link pub/dev -> an outside folder is 550 and never opens the file',
    { skip: !CAN_VERIFY_DESCRIPTORS && 'needs /proc/self/fd' },
    async () => {
      const devices = join(dirname(server.root), 'dev');
      mkdirSync(devices);
      execFileSync('mkfifo', [join(devices, 'watchdog')]);
      mkdirSync(join(server.root, 'pub'));
      symlinkSync(devices, join(server.root, 'pub', 'dev'));
      const ftp = await login(server);
      await withBlockedOpener(join(devices, 'watchdog'), 'write', async () => {
        await ftp.expect('EPSV', 229);
        await ftp.expect('RETR /pub/dev/watchdog', 550);
      });
      await ftp.quit();
    },
  );

  test(
    'a symlink loop is 550 (not found), not 451',
    async () => {
      symlinkSync(join(server.root, 'loop-b'), join(server.root, 'loop-a'));
      symlinkSync(join(server.root, 'loop-a'), join(server.root, 'loop-b'));
      const ftp = await login(server);
      await ftp.expect('RETR loop-a', 550);
      await ftp.expect('CWD loop-a', 550);
      await ftp.expect('SIZE loop-b', 550);
      const names = lines((await ftp.download('NLST')).data);
      assert.ok(!names.includes('loop-a') && !names.includes('loop-b'));
      await ftp.quit();
    },
  );

  test(
    'STOR over an existing file keeps its permission bits',
    async () => {
      const target = join(server.root, 'private.txt');
      writeFileSync(target, 'private');
      chmodSync(target, 0o600);
      const ftp = await login(server);
      await ftp.expect('TYPE I', 200);
      const { final } = await ftp.upload('STOR private.txt', Buffer.from('still private'));
      assert.equal(final.code, 226);
      assert.equal(readFileSync(target, 'utf8'), 'still private');
      assert.equal((statSync(target).mode & 0o777).toString(8), '600');
      await ftp.quit();
    },
  );
});
