/**
 * Implicit FTPS: a second listener where TLS starts before the 220 greeting (the
 * historical "ftps://" on port 990; Ferry's tls.implicit_port). Data connections default
 * to PROT P there. Broken or plain-text clients on that port must cost one connection,
 * never the server.
 *
 * All servers here use tls.handshake_timeout = 1 so silent clients are dropped quickly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { assertExitOk, clientEnv, describeRun, skipUnlessInstalled } from '../helpers/run-process.js';
import { USER } from '../helpers/server.js';
import { waitFor, withTimeout } from '../helpers/timing.js';
import { FtpsClient, runFtpsCurl, runFtpsLftp, withTlsServer, type TlsTestServer } from './fixtures.js';

const FAST = { tls: { handshake_timeout: 1 } };

function implicitPort(server: TlsTestServer): number {
  assert.ok(server.implicitPort !== null && server.implicitPort > 0, 'the implicit listener is not running');
  return server.implicitPort;
}

/** Connects a raw TCP socket to the implicit port and records what comes back until it closes. */
async function rawImplicit(server: TlsTestServer): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = netConnect({ host: server.host, port: implicitPort(server) });
  socket.on('error', () => undefined);
  await withTimeout(once(socket, 'connect'), 5000, 'connect to the implicit port');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = once(socket, 'close').then(() => undefined);
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** The bytes of a real TLS ClientHello (node:tls talking to a listener that only records). */
async function captureClientHello(): Promise<Buffer> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  try {
    const received = once(listener, 'connection').then(async ([socket]) => {
      const [chunk] = (await withTimeout(once(socket as Socket, 'data'), 5000, 'ClientHello')) as [Buffer];
      (socket as Socket).destroy();
      return chunk;
    });
    const client = tlsConnect({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port, rejectUnauthorized: false });
    client.on('error', () => undefined);
    const hello = await received;
    client.destroy();
    assert.equal(hello[0], 0x16, 'not a TLS handshake record');
    return hello;
  } finally {
    listener.close();
  }
}

/** A good implicit session logs in and lists after whatever the previous clients did. */
async function assertServerHealthy(server: TlsTestServer): Promise<void> {
  const client = await FtpsClient.connectImplicit(server.host, implicitPort(server));
  try {
    assert.equal(client.greeting.code, 220);
    await client.login();
    const list = await client.download('NLST', 'EPSV');
    assert.equal(list.final.code, 226);
  } finally {
    client.close();
  }
}

describe('implicit FTPS, raw protocol', () => {
  test('the listener runs on its own port; TLS comes before the 220 greeting', () =>
    withTlsServer(FAST, async (server) => {
      const port = implicitPort(server);
      assert.notEqual(port, server.port);
      const client = await FtpsClient.connectImplicit(server.host, port);
      try {
        assert.ok(client.tls?.encrypted);
        assert.equal(client.greeting.code, 220);
        assert.equal(client.greeting.text, server.config.banner);
        // Already protected: AUTH is out of sequence, and login needs no AUTH.
        assert.equal((await client.send('AUTH TLS')).code, 503);
        await client.login();
        await client.quit();
      } finally {
        client.close();
      }
    }));

  test('data connections default to PROT P (no PBSZ/PROT sent), in passive and active mode', () =>
    withTlsServer(FAST, async (server) => {
      writeFileSync(join(server.root, 'f.bin'), ALL_BYTES);
      const client = await FtpsClient.connectImplicit(server.host, implicitPort(server));
      try {
        await client.login();
        await client.expect('TYPE I', 200);
        for (const mode of ['PASV', 'EPSV', 'PORT', 'EPRT'] as const) {
          const got = await client.download('RETR f.bin', mode, 'resume');
          assert.equal(got.final.code, 226, `${mode}: ${got.final.lines.join(' | ')}`);
          assert.equal(got.reused, true);
          assert.equal(sha256(got.data), sha256(ALL_BYTES));
          const name = `up-${mode}.bin`;
          assert.equal((await client.upload(`STOR ${name}`, ALL_BYTES, mode, 'resume')).final.code, 226);
          assert.equal(sha256File(join(server.root, name)), sha256(ALL_BYTES));
        }
        // A client that expects clear data gets no file bytes in clear: 425 after the TLS timeout.
        const clear = await client.download('RETR f.bin', 'EPSV', 'clear');
        assert.equal(clear.final.code, 425, clear.final.lines.join(' | '));
        assert.equal(clear.data.length, 0);
        // PROT C without PBSZ is allowed on the implicit port (PBSZ is implied), but the
        // default "required" policy refuses clear data.
        await client.expect('PROT C', 200);
        assert.equal((await client.send('RETR f.bin')).code, 521);
      } finally {
        client.close();
      }
    }));

  test('a plain-text client on the implicit port is closed without a greeting in clear', () =>
    withTlsServer(FAST, async (server) => {
      const raw = await rawImplicit(server);
      raw.socket.write('USER x\r\n');
      await withTimeout(raw.closed, 5000, 'the server to close a plain-text connection on the implicit port');
      const text = raw.received().toString('latin1');
      assert.ok(!text.includes('220'), `greeting leaked in clear: ${JSON.stringify(text)}`);
      assert.ok(!/[A-Za-z]{4,}/.test(text), `clear text came back: ${JSON.stringify(text)}`);
      await assertServerHealthy(server);
    }));

  test('a client that sends nothing is dropped after tls.handshake_timeout', () =>
    withTlsServer(FAST, async (server) => {
      const started = Date.now();
      const raw = await rawImplicit(server);
      await withTimeout(raw.closed, 5000, 'the server to drop a silent client');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 800, `dropped after ${elapsed} ms, before the 1 s handshake timeout`);
      assert.equal(raw.received().length, 0);
      assert.ok(await waitFor(() => server.server.sessionCount === 0, 3000), 'the session was not released');
      await assertServerHealthy(server);
    }));

  test('garbage instead of a ClientHello, and clients dropping mid-handshake, do not hurt the server', () =>
    withTlsServer(FAST, async (server) => {
      // 1. Random bytes, and a bogus TLS record header with a huge length.
      for (const garbage of [randomData().subarray(0, 4096), Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00])]) {
        const raw = await rawImplicit(server);
        raw.socket.write(garbage);
        await withTimeout(raw.closed, 5000, 'the server to close a garbage connection');
      }
      // 2. A real ClientHello, then the client vanishes (TCP reset or FIN) as soon as the
      //    server has answered it, i.e. in the middle of the handshake.
      const hello = await captureClientHello();
      for (const how of ['reset', 'end'] as const) {
        const raw = await rawImplicit(server);
        raw.socket.write(hello);
        await withTimeout(once(raw.socket, 'data'), 5000, 'ServerHello');
        if (how === 'reset') raw.socket.resetAndDestroy();
        else raw.socket.end();
        await withTimeout(raw.closed, 5000, 'close after a dropped handshake');
      }
      // 3. Half a ClientHello.
      const half = await rawImplicit(server);
      half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03]));
      half.socket.end();
      await withTimeout(half.closed, 5000, 'the server to close a half-handshake connection');

      assert.ok(await waitFor(() => server.server.sessionCount === 0, 4000), `sessions left: ${server.server.sessionCount}`);
      await assertServerHealthy(server);
      // And explicit FTPS on the control port is unaffected.
      const explicit = await FtpsClient.connect(server.host, server.port);
      try {
        await explicit.authTls();
        await explicit.login();
      } finally {
        explicit.close();
      }
    }));

  test('tls.implicit = false: no implicit listener', () =>
    withTlsServer({ tls: { implicit: false } }, async (server) => {
      assert.equal(server.implicitPort, null);
    }));
});

describe('implicit FTPS with curl (ftps://)', { skip: skipUnlessInstalled('curl') }, () => {
  /* One transfer per curl run here; several URLs in one run are in interop-curl.test.ts. */
  test('download (all byte values, 5 MiB random) and upload are byte-exact; no AUTH, PROT P', () =>
    withTlsServer(FAST, async (server) => {
      const local = join(server.scratch, 'curl');
      mkdirSync(local);
      const env = clientEnv(server.scratch);
      writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'random.bin'), randomData());
      writeFileSync(join(local, 'upload.bin'), randomData());
      const base = `ftps://${server.host}:${implicitPort(server)}`;

      const runs = [];
      for (const name of ['all-bytes.bin', 'random.bin']) {
        const down = await runFtpsCurl(['-o', name, `${base}/${name}`], { cwd: local, env });
        assertExitOk(`curl ftps:// download ${name}`, down);
        runs.push(down);
      }
      assert.equal(sha256File(join(local, 'all-bytes.bin')), sha256(ALL_BYTES));
      assert.equal(sha256File(join(local, 'random.bin')), sha256(randomData()));

      const up = await runFtpsCurl(['-T', 'upload.bin', `${base}/uploaded.bin`], { cwd: local, env });
      assertExitOk('curl ftps:// upload', up);
      runs.push(up);
      assert.equal(sha256File(join(server.root, 'uploaded.bin')), sha256(randomData()));

      for (const run of runs) {
        assert.ok(!run.sent.some((line) => /^AUTH\b/.test(line)), `curl sent AUTH on the implicit port: ${run.sent.join(' | ')}`);
        assert.ok(run.sent.includes('PROT P'), `curl did not ask for PROT P: ${run.sent.join(' | ')}`);
        assert.equal(run.received[0], `220 ${server.config.banner}`, describeRun('curl', run));
        assert.ok(run.received.includes('226 Transfer complete.'), describeRun('curl', run));
      }
    }));
});

describe('implicit FTPS with lftp (open ftps://)', { skip: skipUnlessInstalled('lftp') }, () => {
  test('get and put are byte-exact, ls lists', () =>
    withTlsServer(FAST, async (server) => {
      const local = join(server.scratch, 'lftp');
      mkdirSync(local);
      const env = clientEnv(server.scratch);
      writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
      writeFileSync(join(local, 'random.bin'), randomData());
      const run = await runFtpsLftp(
        `ftps://${server.host}:${implicitPort(server)}`,
        ['get all-bytes.bin -o got.bin', 'put random.bin -o put.bin', 'ls'],
        { cwd: local, env, settings: ['set ftp:passive-mode on'] },
      );
      assertExitOk('lftp ftps://', run);
      assert.equal(sha256File(join(local, 'got.bin')), sha256(ALL_BYTES));
      assert.equal(sha256File(join(server.root, 'put.bin')), sha256(randomData()));
      const listing = run.stdout.toString('utf8');
      assert.match(listing, /\sall-bytes\.bin$/m);
      assert.match(listing, /\sput\.bin$/m);
      assert.ok(!run.sent.some((line) => /^AUTH\b/.test(line)), `lftp sent AUTH on the implicit port: ${run.sent.join(' | ')}`);
      assert.ok(run.sent.includes(`USER ${USER}`));
      // Nothing but the files themselves on the server (no leftover upload temporaries).
      assert.deepEqual(readdirSync(server.root).sort(), ['all-bytes.bin', 'put.bin']);
    }));
});
