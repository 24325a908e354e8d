/**
 * An upload is committed only when the client ended the data connection cleanly: a TCP
 * FIN after all bytes (and under TLS, by default, a close_notify first). A reset or a
 * truncated TLS stream gets 426 and leaves the previous file byte-identical, with no
 * temporary file behind. Each case runs over every upload path: the stream path in TYPE I
 * and TYPE A, the zero-copy (splice) path, and TLS.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferEvent } from '../../src/observability/events.js';
import { zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import { randomData, sha256 } from '../helpers/data.js';
import { FtpConnection, type FtpReply } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';
import { uploadTempFiles } from './support.js';

/** Tries per reset case: the old code committed about half of them in TYPE A. */
const TRIES = 10;
const OLD = randomData(256 * 1024);
/** Printable lines with CRLF, so TYPE A has something to convert. */
const TEXT = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} of the upload\r\n`).join(''));
const BINARY = randomData(2 * 1024 * 1024);

type Path = 'stream TYPE I' | 'stream TYPE A' | 'zero-copy TYPE I' | 'TLS TYPE I';
const PATHS: readonly Path[] = ['stream TYPE I', 'stream TYPE A', 'zero-copy TYPE I', 'TLS TYPE I'];

interface OpenUpload {
  /** Where the client writes: the TCP socket, or TLS over it. */
  data: Socket;
  /** The TCP connection itself. */
  tcp: Socket;
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

async function session(server: TestServer, path: Path): Promise<FtpConnection> {
  const ftp = await FtpConnection.connect(server.host, server.port);
  if (path === 'TLS TYPE I') await ftp.authTls();
  await ftp.expect(`USER ${USER}`, 331);
  await ftp.expect(`PASS ${PASSWORD}`, 230);
  if (path === 'TLS TYPE I') await ftp.protect('P');
  await ftp.expect(path === 'stream TYPE A' ? 'TYPE A' : 'TYPE I', 200);
  return ftp;
}

/** Sends `command`, checks its 150, and opens (and under PROT P secures) the data connection. */
async function openUpload(ftp: FtpConnection, command: string): Promise<OpenUpload> {
  const connect = await ftp.prepareData('EPSV');
  const preliminary = await ftp.send(command);
  assert.equal(preliminary.code, 150, preliminary.text);
  const tcp = await connect();
  // Under PROT P: TLS resuming the control connection's session, with a bounded handshake.
  return { data: await ftp.secureData(tcp, ftp.tls ? 'resume' : 'clear'), tcp };
}

/** Half the bytes, then a TCP reset (RST) instead of a close. */
async function uploadThenReset(ftp: FtpConnection, command: string, content: Buffer): Promise<FtpReply> {
  const { data, tcp } = await openUpload(ftp, command);
  await write(data, content.subarray(0, content.length >> 1));
  tcp.resetAndDestroy();
  return ftp.read();
}

/** Every byte, then a bare TCP FIN: under TLS, no close_notify. */
async function uploadThenBareClose(ftp: FtpConnection, command: string, content: Buffer): Promise<FtpReply> {
  const { data, tcp } = await openUpload(ftp, command);
  await write(data, content);
  tcp.end();
  const final = await ftp.read();
  data.destroy();
  return final;
}

/** Every byte, then the client's proper close (close_notify and FIN under TLS). */
async function uploadCleanly(ftp: FtpConnection, command: string, content: Buffer): Promise<FtpReply> {
  const { data } = await openUpload(ftp, command);
  data.on('data', () => undefined);
  data.end(content);
  return ftp.read();
}

/** What the file holds after a TYPE A upload of `content` (CRLF becomes LF). */
function stored(path: Path, content: Buffer): Buffer {
  return path === 'stream TYPE A' ? Buffer.from(content.toString('latin1').replaceAll('\r\n', '\n'), 'latin1') : content;
}

for (const path of PATHS) {
  describe(`upload integrity: ${path}`, () => {
    let server: TestServer;
    let ftp: FtpConnection;
    const previous = process.env.FERRY_ZERO_COPY;
    const content = path === 'stream TYPE A' ? TEXT : BINARY;
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);

    before(async () => {
      process.env.FERRY_ZERO_COPY = path === 'zero-copy TYPE I' ? '1' : '0';
      subscribe('ferry:transfer', onTransfer);
      server = await startServer({}, { tls: path === 'TLS TYPE I' });
      ftp = await session(server, path);
    });

    after(async () => {
      unsubscribe('ferry:transfer', onTransfer);
      // Also when before() failed half-way (no session, or no server).
      try {
        await ftp?.quit();
        await server?.stop();
      } finally {
        if (previous === undefined) delete process.env.FERRY_ZERO_COPY;
        else process.env.FERRY_ZERO_COPY = previous;
      }
    });

    test(`a reset mid-STOR gets 426 and keeps the previous file (${TRIES} tries)`, async () => {
      const target = join(server.root, 'kept.bin');
      writeFileSync(target, OLD);
      const replies: number[] = [];
      for (let i = 0; i < TRIES; i++) replies.push((await uploadThenReset(ftp, 'STOR kept.bin', content)).code);
      assert.deepEqual(
        replies.filter((code) => code !== 426 && code !== 451),
        [],
        `every try fails (replies: ${replies.join(' ')})`,
      );
      assert.equal(sha256(readFileSync(target)), sha256(OLD), 'the previous file is untouched');
      assert.deepEqual(uploadTempFiles(server.root), [], 'no temporary file is left');
      // The session is still usable and a clean upload still lands.
      const final = await uploadCleanly(ftp, 'STOR kept.bin', content);
      assert.equal(final.code, 226, final.text);
      assert.equal(sha256(readFileSync(target)), sha256(stored(path, content)));
      assert.equal(seen.at(-1)?.zeroCopy, path === 'zero-copy TYPE I' && zeroCopyAvailable(), 'the path under test carried the bytes');
    });

    test('an empty upload, ended cleanly, gets 226 and an empty file (5 tries)', async () => {
      // Under TLS the close_notify can arrive with the handshake, before the upload is read.
      const target = join(server.root, 'empty.bin');
      for (let i = 0; i < 5; i++) {
        writeFileSync(target, OLD);
        const final = await uploadCleanly(ftp, 'STOR empty.bin', Buffer.alloc(0));
        assert.equal(final.code, 226, final.text);
        assert.equal(statSync(target).size, 0);
      }
    });

    test('a reset mid-REST+STOR gets 426 and the upload is aborted, not committed', async () => {
      const target = join(server.root, 'resumed.bin');
      writeFileSync(target, OLD);
      await ftp.expect('REST 1000', 350);
      const final = await uploadThenReset(ftp, 'STOR resumed.bin', content.subarray(0, 64 * 1024));
      assert.equal(final.code, 426, final.text);
      // commit() would have cut the file at 1000 + the bytes that arrived.
      assert.equal(statSync(target).size, OLD.length);
      assert.equal(seen.at(-1)?.outcome, 'failed');
    });

    test('a reset mid-APPE gets 426 and the upload is aborted, not committed', async () => {
      writeFileSync(join(server.root, 'appended.bin'), OLD);
      const final = await uploadThenReset(ftp, 'APPE appended.bin', content);
      assert.equal(final.code, 426, final.text);
      assert.equal(seen.at(-1)?.outcome, 'failed');
    });
  });
}

describe('upload integrity: TLS close_notify policy (tls.strict_upload_eof)', () => {
  for (const strict of [true, false]) {
    test(`strict_upload_eof=${strict}: every byte then a bare TCP close gets ${strict ? 426 : 226}`, async () => {
      const server = await startServer({ tls: { strict_upload_eof: strict } }, { tls: true });
      let ftp: FtpConnection | undefined;
      try {
        ftp = await session(server, 'TLS TYPE I');
        const target = join(server.root, 'truncated.bin');
        writeFileSync(target, OLD);
        const final = await uploadThenBareClose(ftp, 'STOR truncated.bin', BINARY);
        assert.equal(final.code, strict ? 426 : 226, final.text);
        assert.equal(sha256(readFileSync(target)), sha256(strict ? OLD : BINARY));
        assert.deepEqual(uploadTempFiles(server.root), []);
        // A client that sends close_notify uploads fine either way.
        const clean = await uploadCleanly(ftp, 'STOR truncated.bin', BINARY);
        assert.equal(clean.code, 226, clean.text);
        assert.equal(sha256(readFileSync(target)), sha256(BINARY));
      } finally {
        await ftp?.quit();
        await server.stop();
      }
    });
  }
});
