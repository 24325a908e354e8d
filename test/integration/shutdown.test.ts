/**
 * Graceful shutdown: FtpServer.close(grace) tells idle sessions 421, refuses new
 * connections, and lets a running transfer finish within the grace period.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../helpers/data.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer } from '../helpers/server.js';
import { connectionFails, login, readAll } from './support.js';

const SIZE = 16 * 1024 * 1024;

test('idle sessions get 421; a running transfer with a slow reader finishes within the grace', async () => {
  const server = await startServer();
  try {
    const payload = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i += 4096) payload[i] = (i >> 12) & 0xff;
    writeFileSync(join(server.root, 'big.bin'), payload);
    const idleLoggedIn = await login(server);
    const idleAnonymous = await FtpConnection.connect(server.host, server.port);
    const busy = await login(server);
    await busy.expect('TYPE I', 200);
    const dataSocket = await busy.prepareData('EPSV');
    await busy.expect('RETR big.bin', 150);
    const socket = await dataSocket(); // not read yet: the transfer is stalled

    const closing = server.server.close(20_000);
    for (const idle of [idleLoggedIn, idleAnonymous]) {
      const reply = await idle.read();
      assert.equal(reply.code, 421, reply.lines.join(' | '));
      assert.equal(await idle.closedByServer(), true);
      idle.socket.destroy();
    }
    // No new sessions while shutting down.
    assert.equal(await connectionFails(server.host, server.port), true);

    // The slow reader now reads everything, bit by bit.
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), 1);
    });
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
    const done = await busy.read();
    assert.equal(done.code, 226, done.lines.join(' | '));
    const bye = await busy.read();
    assert.equal(bye.code, 421, bye.lines.join(' | '));
    assert.equal(await busy.closedByServer(), true);
    busy.socket.destroy();
    await closing;
    assert.equal(server.server.sessionCount, 0);
  } finally {
    await server.stop();
  }
});

test('a command pipelined behind the transfer is not run once shutdown has begun', async () => {
  const server = await startServer();
  try {
    writeFileSync(join(server.root, 'big.bin'), Buffer.alloc(SIZE, 7));
    const busy = await login(server);
    await busy.expect('TYPE I', 200);
    const dataSocket = await busy.prepareData('EPSV');
    await busy.expect('RETR big.bin', 150);
    const socket = await dataSocket();
    busy.writeRaw('MKD /after-shutdown\r\n');
    const closing = server.server.close(20_000);
    const data = await readAll(socket);
    assert.equal(data.length, SIZE);
    assert.equal((await busy.read()).code, 226);
    const next = await busy.read();
    assert.equal(next.code, 421, next.lines.join(' | '));
    assert.equal(existsSync(join(server.root, 'after-shutdown')), false);
    await closing;
  } finally {
    await server.stop();
  }
});

test('a transfer that outlasts the grace period is cut off and close() still resolves', async () => {
  const server = await startServer();
  try {
    writeFileSync(join(server.root, 'big.bin'), Buffer.alloc(SIZE, 9));
    const busy = await login(server);
    await busy.expect('TYPE I', 200);
    const dataSocket = await busy.prepareData('EPSV');
    await busy.expect('RETR big.bin', 150);
    const socket = await dataSocket(); // never read
    await server.server.close(300);
    assert.equal(await busy.closedByServer(), true);
    const received = await readAll(socket);
    assert.ok(received.length < SIZE);
    busy.socket.destroy();
    assert.equal(server.server.sessionCount, 0);
  } finally {
    await server.stop();
  }
});
