/**
 * Listing output a client does not take: a STAT reply never queues more than
 * limits.max_pending_output on the control connection, and a LIST whose data connection
 * is never read holds only socket-buffer-sized output in the server, not the listing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/timing.js';
import { connectSocket, login, parseList, passivePort, readAll } from './support.js';

const CAP = 64 * 1024;
const FILES = 5000;
/** ~205 characters: one LIST line is ~270 bytes, the whole listing ~1.3 MB. */
const nameOf = (i: number) => `${'long-name-'.repeat(20)}${String(i).padStart(4, '0')}.dat`;

describe('listing output a client does not take', () => {
  let server: TestServer;
  /** Sockets the server accepts (its ends of the data connections, among others). */
  const accepted: Socket[] = [];
  const onAccepted = (message: unknown) => accepted.push((message as { socket: Socket }).socket);

  before(async () => {
    server = await startServer({ limits: { max_pending_output: CAP } });
    mkdirSync(join(server.root, 'bigdir'));
    for (let i = 0; i < FILES; i++) writeFileSync(join(server.root, 'bigdir', nameOf(i)), '');
    subscribe('net.server.socket', onAccepted);
  });
  after(async () => {
    unsubscribe('net.server.socket', onAccepted);
    await server.stop();
  });

  test('STAT of a big directory stops at limits.max_pending_output with a note and a valid 213 end', async () => {
    const ftp = await login(server);
    const stat = await ftp.send('STAT /bigdir');
    assert.equal(stat.code, 213, stat.lines.slice(-3).join(' | '));
    const replyBytes = stat.lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 2, 0);
    const oneLine = Buffer.byteLength(stat.lines[1]!) + 2;
    assert.ok(replyBytes <= CAP + oneLine, `the STAT reply was ${replyBytes} bytes (cap ${CAP})`);
    // RFC 959 framing: "213-" first, continuation lines, "213 " last.
    assert.match(stat.lines[0]!, /^213-Status of "\/bigdir":$/);
    assert.equal(stat.lines[stat.lines.length - 1], '213 End of status');
    for (const line of stat.lines.slice(1, -1)) assert.match(line, /^ /);
    assert.match(stat.lines[stat.lines.length - 2]!, /output truncated at 65536 bytes \(limits\.max_pending_output\); use LIST or MLSD/);
    // The entries sent are the first ones, whole.
    const body = parseList(
      stat.lines
        .slice(1, -2)
        .map((line) => line.slice(1) + '\r\n')
        .join(''),
    );
    assert.ok(body.length > 100 && body.length < FILES, `${body.length} entries`);
    assert.deepEqual(
      body.map((entry) => entry.name),
      Array.from({ length: body.length }, (_, i) => nameOf(i)),
    );
    await ftp.expect('NOOP', 200);
    await ftp.quit();
  });

  test('a LIST whose data connection is never read reaches the data socket in small pieces', async () => {
    const ftp = await login(server);
    const client = await connectSocket(server.host, passivePort(await ftp.send('PASV')));
    client.pause(); // never read
    let serverEnd: Socket | undefined;
    for (let i = 0; i < 100 && !serverEnd; i++, await sleep(10)) {
      serverEnd = accepted.find((socket) => socket.remotePort === client.localPort);
    }
    assert.ok(serverEnd, 'the server end of the data connection was not seen');
    // The kernel takes ~4 MB on loopback, more than this listing, so the socket's own
    // buffer says little: what the server hands it at once (and keeps until it is sent) does.
    let largestWrite = 0;
    let maxBuffered = 0;
    const write = serverEnd.write.bind(serverEnd) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    serverEnd.write = ((chunk: Buffer, ...rest: unknown[]) => {
      largestWrite = Math.max(largestWrite, chunk.length);
      const result = write(chunk, ...rest);
      maxBuffered = Math.max(maxBuffered, serverEnd.writableLength);
      return result;
    }) as Socket['write'];
    assert.equal((await ftp.send('LIST /bigdir')).code, 150);
    for (let i = 0; i < 100 && serverEnd.bytesWritten < 1_000_000; i++) await sleep(10);
    assert.ok(largestWrite > 0 && largestWrite <= 64 * 1024, `the server wrote ${largestWrite} bytes of listing at once`);
    assert.ok(maxBuffered <= 128 * 1024, `the server buffered ${maxBuffered} bytes of listing`);
    // Reading it now gives the whole listing, byte for byte as before, and a 226.
    const data = readAll(client);
    client.resume();
    assert.equal((await ftp.read(10_000)).code, 226);
    const entries = parseList(await data);
    assert.equal(entries.length, FILES);
    assert.equal(entries[FILES - 1]!.name, nameOf(FILES - 1));
    await ftp.quit();
  });
});
