/**
 * The copying download path (TLS, or no zero-copy): positioned reads into two reused
 * buffers, each read into again only once the socket has taken its bytes. Byte-exact
 * from an offset across many chunks, what there was of a file that shrank, and an abort
 * that ends a transfer stalled on a peer that does not read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { sendByReads, type ReadAt } from '../../src/server/data/send-by-reads.js';
import { randomData, sha256 } from '../helpers/data.js';
import { withTimeout } from '../helpers/timing.js';

/** A connected pair on loopback: the server's side (we send on it) and the client's. */
async function socketPair(): Promise<{ sender: Socket; receiver: Socket; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const receiver = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [sender] = (await accepted) as [Socket];
  server.close();
  return { sender, receiver, close: () => (sender.destroy(), receiver.destroy()) };
}

function readsFrom(file: Buffer, calls: { buffers: Set<Buffer>; count: number }): ReadAt {
  return async (buffer, position, length) => {
    calls.buffers.add(buffer);
    calls.count++;
    return file.copy(buffer, 0, position, Math.min(file.length, position + length));
  };
}

async function received(receiver: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of receiver) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('sends byte-exact from an offset over many chunks, reading into two buffers only', async () => {
  const file = randomData(5 * 1024 * 1024 + 321);
  const { sender, receiver, close } = await socketPair();
  try {
    const calls = { buffers: new Set<Buffer>(), count: 0 };
    const data = received(receiver);
    const sent = await sendByReads(readsFrom(file, calls), 1000, file.length, sender, new AbortController().signal);
    assert.equal(sent, file.length - 1000);
    assert.equal(sha256(await data), sha256(file.subarray(1000)));
    assert.equal(calls.count, Math.ceil((file.length - 1000) / (1024 * 1024)));
    assert.equal(calls.buffers.size, 2, 'the same two buffers are read into every time');
  } finally {
    close();
  }
});

test('a file that shrank after its open: what there was is sent', async () => {
  const file = randomData(300 * 1024);
  const { sender, receiver, close } = await socketPair();
  try {
    const data = received(receiver);
    const sent = await sendByReads(readsFrom(file, { buffers: new Set(), count: 0 }), 0, 2 * 1024 * 1024, sender, new AbortController().signal);
    assert.equal(sent, file.length);
    assert.equal(sha256(await data), sha256(file));
  } finally {
    close();
  }
});

test('an abort ends a transfer stalled on a peer that does not read', async () => {
  const file = randomData(64 * 1024 * 1024);
  const { sender, receiver, close } = await socketPair();
  try {
    receiver.pause();
    const controller = new AbortController();
    const transfer = sendByReads(readsFrom(file, { buffers: new Set(), count: 0 }), 0, file.length, sender, controller.signal);
    // Stalled: the socket's buffers fill and the write callbacks stop coming.
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort(new Error('ABOR'));
    await withTimeout(assert.rejects(transfer), 2000, 'the aborted transfer settles');
    assert.ok(sender.destroyed);
  } finally {
    close();
  }
});
