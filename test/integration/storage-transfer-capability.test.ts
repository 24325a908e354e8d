/**
 * Zero-copy is a capability of the open file (Download.sendTo, Upload.receiveFrom), not
 * something the transfer code finds out from descriptors. A backend whose open files lack
 * the methods (as an S3 backend will) transfers byte-exact over streams with zeroCopy
 * false; local storage still goes zero-copy where the addon is built; and the transfer
 * code falls back to the stream when an open file answers null, and never asks in TYPE A.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { TransferEvent } from '../../src/observability/events.js';
import { receiveUpload, sendDownload, type TransferOptions } from '../../src/server/data/transfer.js';
import { streamDownload, type Download, type StorageBackend, type Upload, type WriteOptions } from '../../src/storage/backend.js';
import { LocalStorage } from '../../src/storage/local.js';
import { zeroCopyAvailable } from '../../src/storage/zero-copy.js';
import { randomData, sha256 } from '../helpers/data.js';
import { sleep } from '../helpers/timing.js';
import { descriptorsOn, reopenAs } from '../helpers/open-descriptors.js';
import { DATA_MODES, FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, startServer, USER, type TestServer } from '../helpers/server.js';

const FILE = randomData(3 * 1024 * 1024 + 5);

/** Local storage whose open files offer only their streams; counts the files it opened. */
class StreamOnlyStorage implements StorageBackend {
  opened = 0;
  constructor(private readonly inner: StorageBackend) {}
  get capabilities() {
    return this.inner.capabilities;
  }
  stat = (path: string) => this.inner.stat(path);
  list: StorageBackend['list'] = (path, options) => this.inner.list(path, options);
  mkdir = (path: string) => this.inner.mkdir(path);
  rmdir = (path: string) => this.inner.rmdir(path);
  delete = (path: string) => this.inner.delete(path);
  rename = (from: string, to: string) => this.inner.rename(from, to);

  async read(path: string, options?: { start?: number }): Promise<Download> {
    const { stream, size, start } = await this.inner.read(path, options);
    this.opened++;
    return streamDownload(stream, size, start);
  }

  async write(path: string, options?: WriteOptions): Promise<Upload> {
    const upload = await this.inner.write(path, options);
    this.opened++;
    return { stream: upload.stream, commit: () => upload.commit(), abort: () => upload.abort() };
  }
}

for (const backend of ['local', 'stream-only'] as const) {
  describe(`binary RETR and STOR on ${backend} storage`, () => {
    let server: TestServer;
    const wrappers: StreamOnlyStorage[] = [];
    const seen: TransferEvent[] = [];
    const onTransfer = (message: unknown) => seen.push(message as TransferEvent);
    const previous = process.env.FERRY_ZERO_COPY;
    /** What the transfer events must say: zero-copy only where local storage and the addon meet. */
    const expectZeroCopy = () => backend === 'local' && zeroCopyAvailable();

    before(async () => {
      process.env.FERRY_ZERO_COPY = '1';
      subscribe('ferry:transfer', onTransfer);
      const openStorage =
        backend === 'stream-only'
          ? async (user: { home: string }) => {
              const wrapper = new StreamOnlyStorage(new LocalStorage(user.home));
              wrappers.push(wrapper);
              return wrapper;
            }
          : undefined;
      server = await startServer({}, { openStorage });
      writeFileSync(join(server.root, 'file.bin'), FILE);
    });

    after(async () => {
      unsubscribe('ferry:transfer', onTransfer);
      await server.stop();
      if (previous === undefined) delete process.env.FERRY_ZERO_COPY;
      else process.env.FERRY_ZERO_COPY = previous;
    });

    test('byte-exact in every data mode, and the event says which path carried the bytes', async () => {
      const ftp = await FtpConnection.login(server.host, server.port, USER, PASSWORD);
      await ftp.expect('TYPE I', 200);
      for (const mode of DATA_MODES) {
        const download = await ftp.download('RETR file.bin', mode);
        assert.equal(download.final.code, 226, mode);
        assert.equal(sha256(download.data), sha256(FILE), mode);
        assert.deepEqual([seen.at(-1)?.verb, seen.at(-1)?.bytes, seen.at(-1)?.zeroCopy], ['RETR', FILE.length, expectZeroCopy()], mode);

        const upload = await ftp.upload(`STOR copy-${mode}.bin`, FILE, mode);
        assert.equal(upload.final.code, 226, mode);
        assert.equal(sha256(readFileSync(join(server.root, `copy-${mode}.bin`))), sha256(FILE), mode);
        assert.deepEqual([seen.at(-1)?.verb, seen.at(-1)?.bytes, seen.at(-1)?.zeroCopy], ['STOR', FILE.length, expectZeroCopy()], mode);
      }
      await ftp.expect('REST 1000', 350);
      assert.equal(sha256((await ftp.download('RETR file.bin')).data), sha256(FILE.subarray(1000)));
      assert.deepEqual([seen.at(-1)?.bytes, seen.at(-1)?.zeroCopy], [FILE.length - 1000, expectZeroCopy()]);
      await ftp.quit();
      if (backend === 'stream-only') assert.equal(wrappers.reduce((sum, wrapper) => sum + wrapper.opened, 0), 2 * DATA_MODES.length + 1, 'every file went through the wrapper');
    });
  });
}

/** A connected loopback pair: `server` is the side a transfer runs on, `client` the peer. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer({ pauseOnConnect: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  const accepted = once(listener, 'connection');
  const client = connect(port, '127.0.0.1');
  const [server] = (await accepted) as [Socket];
  listener.close();
  return {
    server,
    client,
    close: () => {
      server.destroy();
      client.destroy();
    },
  };
}

async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function transferOptions(ascii: boolean): TransferOptions {
  return { ascii, idleTimeoutMs: 5000, signal: new AbortController().signal, zeroCopyThreads: 4 };
}

describe('the transfer code asks the open file', () => {
  const BYTES = Buffer.from('line one\nline two\n');

  test('a download whose sendTo answers null goes over its stream; TYPE A never asks', async (t) => {
    for (const ascii of [false, true]) {
      const pair = await socketPair();
      t.after(pair.close);
      const asked: boolean[] = [];
      const download: Download = { ...streamDownload(Readable.from([BYTES]), BYTES.length, 0), sendTo: async () => (asked.push(true), null) };
      const [result, received] = await Promise.all([sendDownload(download, pair.server, transferOptions(ascii)), readAll(pair.client)]);
      assert.deepEqual(result, { bytes: BYTES.length, zeroCopy: false });
      assert.equal(received.toString(), ascii ? 'line one\r\nline two\r\n' : BYTES.toString());
      assert.equal(asked.length, ascii ? 0 : 1);
    }
  });

  test('a download that sends itself is reported zero-copy, its stream untouched and the socket ended', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const stream = Readable.from([Buffer.from('never read')]);
    const download: Download = {
      ...streamDownload(stream, BYTES.length, 0),
      sendTo: async (socket) => {
        await new Promise<void>((resolve, reject) => socket.write(BYTES, (error) => (error ? reject(error) : resolve())));
        return BYTES.length;
      },
    };
    const [result, received] = await Promise.all([sendDownload(download, pair.server, transferOptions(false)), readAll(pair.client)]);
    assert.deepEqual(result, { bytes: BYTES.length, zeroCopy: true });
    assert.deepEqual(received, BYTES);
    assert.equal(stream.readableDidRead, false);
  });

  test('a sendfile download leaves its descriptor to the addon: no descriptor on the file remains, and close() then closes nothing else', { skip: !zeroCopyAvailable() && 'the zero-copy addon is not built' }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'ferry-sendfile-close-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const bytes = randomData(100 * 1024);
    const file = join(root, 'large.bin');
    writeFileSync(file, bytes);
    const download = await new LocalStorage(root).read('/large.bin');
    const [fd] = descriptorsOn(file);
    assert.ok(fd !== undefined);
    const pair = await socketPair();
    t.after(pair.close);
    const [result, received] = await Promise.all([sendDownload(download, pair.server, transferOptions(false)), readAll(pair.client)]);
    assert.deepEqual(result, { bytes: bytes.length, zeroCopy: true });
    assert.deepEqual(received, bytes);
    assert.deepEqual(descriptorsOn(file), []);
    // The number is free again: another file may get it, and the download's close must not close that one.
    const other = reopenAs(file, Number(fd));
    t.after(() => closeSync(other));
    download.close();
    await sleep(100);
    assert.ok(fstatSync(other).isFile());
  });

  test('a download whose sendTo answers null is read with readAt when it has it, its stream untouched', async (t) => {
    const pair = await socketPair();
    t.after(pair.close);
    const stream = Readable.from([Buffer.from('never read')]);
    const download: Download = {
      ...streamDownload(stream, BYTES.length, 5),
      sendTo: async () => null,
      readAt: async (buffer, position, length) => BYTES.copy(buffer, 0, position, position + length),
    };
    const [result, received] = await Promise.all([sendDownload(download, pair.server, transferOptions(false)), readAll(pair.client)]);
    assert.deepEqual(result, { bytes: BYTES.length - 5, zeroCopy: false });
    assert.deepEqual(received, BYTES.subarray(5));
    assert.equal(stream.readableDidRead, false);
  });

  test('an upload without receiveFrom, or whose receiveFrom answers null, goes into its stream', async (t) => {
    for (const offered of [false, true]) {
      const pair = await socketPair();
      t.after(pair.close);
      const chunks: Buffer[] = [];
      const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) });
      const upload: Upload = { stream, commit: async () => undefined, abort: async () => undefined };
      const sink: Upload = offered ? { ...upload, receiveFrom: async () => null } : upload;
      pair.client.end(BYTES);
      const result = await receiveUpload(pair.server, sink, transferOptions(false));
      assert.deepEqual(result, { bytes: BYTES.length, zeroCopy: false });
      assert.deepEqual(Buffer.concat(chunks), BYTES);
    }
  });
});
