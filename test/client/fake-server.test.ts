/**
 * The client against a tiny scripted FTP server (fake-ftp-server.ts) that does what real servers
 * sometimes do: refuse EPSV, advertise a PASV address, send 150 only after the data,
 * wrap code-like lines in multi-line replies, greet with 120 first, stay silent, close
 * the connection, or answer something that is not FTP; downloadDir and `ferry mirror`
 * against hostile listings (names that escape the target, folders nested forever).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { FtpClient, type FtpClientOptions } from '../../src/client/client.js';
import { FtpClientError } from '../../src/client/errors.js';
import { ALL_BYTES, randomData, sha256 } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { sleep, waitFor, withTimeout } from '../helpers/timing.js';
import { activeHandlers, clientOptions, endData, fakeServer, retrDataFirst, type Handler } from '../helpers/fake-ftp-server.js';
import { closedPort, hashTree, memorySink, recorder, rejectsWith, runFerry } from './support.js';

/** RETR of `contents[path]` (550 for other paths); each path asked for is pushed to `retrieved`. */
function retrFrom(contents: Record<string, string | Buffer>, retrieved: string[]): Handler {
  return async (s, arg) => {
    retrieved.push(arg);
    const body = contents[arg];
    const data = await s.data();
    if (!body) {
      data.destroy();
      return s.send('550 No.');
    }
    s.send('150 Sending.');
    await endData(data, body);
    s.send('226 Sent.');
  };
}

/** Connects to a fake server, downloads file.bin (it must be ALL_BYTES), and closes. */
async function downloadFileBin(port: number, extra: Partial<FtpClientOptions>): Promise<void> {
  const client = await FtpClient.connect(clientOptions(port, extra));
  try {
    const { sink, data } = memorySink();
    await client.download('file.bin', sink, { total: ALL_BYTES.length });
    assert.equal(sha256(data()), sha256(ALL_BYTES));
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------

describe('the client against a scripted fake server', () => {
  test('EPSV refused with 500: falls back to PASV and uses the advertised address', async () => {
    const fake = await fakeServer({ handlers: { RETR: retrDataFirst } });
    const trace = recorder();
    await downloadFileBin(fake.port, { trace: trace.trace });
    const lines = trace.lines.join('\n');
    assert.match(lines, /^---> EPSV$/m);
    assert.match(lines, /^500 EPSV not understood\.$/m);
    assert.match(lines, /^EPSV refused \(500\); trying PASV$/m);
    assert.match(lines, /^227 Entering Passive Mode \(127,0,0,1,\d+,\d+\)$/m);
    assert.match(lines, /^PASV: server listens on 127\.0\.0\.1 port \d+\*256\+\d+ = \d+$/m);
    assert.doesNotMatch(lines, /not routable/);
    assert.match(lines, /^data connection: client 127\.0\.0\.1:\d+ -> server 127\.0\.0\.1:\d+ \(passive, opened by the client\)$/m);
  });

  test('with trustPasvAddress, a different address in 227 is used as advertised', async () => {
    // 127.0.0.2 is loopback on Linux; the data listener really is there and nowhere else.
    const fake = await fakeServer({ pasvListen: '127.0.0.2', handlers: { RETR: retrDataFirst } });
    const trace = recorder();
    await downloadFileBin(fake.port, { trace: trace.trace, forcePasv: true, trustPasvAddress: true });
    assert.ok(!fake.sessions[0]!.commands.includes('EPSV'), 'forcePasv sends no EPSV');
    assert.ok(trace.lines.some((l) => /^PASV: server listens on 127\.0\.0\.2 port /.test(l)), trace.lines.join('\n'));
    assert.ok(trace.lines.some((l) => /-> server 127\.0\.0\.2:\d+ \(passive/.test(l)), trace.lines.join('\n'));
  });

  test('by default a 227 address that is not the control host is replaced by the control host, and the trace says so', async () => {
    // What a server behind NAT without a masquerade address sends: its private address.
    const fake = await fakeServer({ pasvAdvertise: '10.9.9.9', handlers: { RETR: retrDataFirst } });
    const trace = recorder();
    await downloadFileBin(fake.port, { trace: trace.trace, forcePasv: true });
    const lines = trace.lines.join('\n');
    assert.match(lines, /^PASV address 10\.9\.9\.9 is not the control host; connecting to 127\.0\.0\.1 instead .*--trust-pasv-address/m);
    assert.match(lines, /-> server 127\.0\.0\.1:\d+ \(passive/);
  });

  test("dataCommand 'EPSV' does not fall back to PASV when the server refuses EPSV", async () => {
    const fake = await fakeServer({ handlers: { RETR: retrDataFirst } });
    const client = await FtpClient.connect(clientOptions(fake.port, { dataCommand: 'EPSV' }));
    try {
      const error = await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply', 500);
      assert.match(error.message, /EPSV/);
      assert.ok(!fake.sessions[0]!.commands.includes('PASV'), fake.sessions[0]!.commands.join(' '));
      assert.equal(await client.pwd(), '/', 'the session is still in step');
    } finally {
      await client.close();
    }
  });

  test('a refused passive connection names the command, address and port, and suggests active mode', async () => {
    const closed = await closedPort();
    const fake = await fakeServer({
      handlers: { PASV: (s) => s.send(`227 Entering Passive Mode (127,0,0,1,${closed >> 8},${closed & 255})`) },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { forcePasv: true }));
    try {
      const error = await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'network');
      assert.match(error.message, new RegExp(`passive data connection to 127\\.0\\.0\\.1:${closed} \\(PASV\\).*try active mode`));
    } finally {
      await client.close();
    }
  });

  test('active mode: a 425 after the 150 ends the wait for the data connection at once', async () => {
    const fake = await fakeServer({
      handlers: {
        PORT: (s) => s.send('200 PORT ok.'),
        RETR: async (s) => {
          s.send('150 Opening data connection.');
          await sleep(50);
          s.send("425 Can't open data connection to 127.0.0.1:1: connection refused.");
        },
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { dataMode: 'active', timeoutMs: 10_000 }));
    try {
      const started = Date.now();
      const error = await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'reply');
      assert.equal(error.code, 425);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      assert.equal(await client.pwd(), '/', 'the session is still in step');
    } finally {
      await client.close();
    }
  });

  test('a data connection that stalls mid-transfer fails with a timeout naming the command', async () => {
    const fake = await fakeServer({
      handlers: {
        RETR: async (s) => {
          const data = await s.data();
          s.send('150 Opening data connection.');
          data.write('a few bytes, then silence'); // and no final reply, ever
        },
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { forcePasv: true, timeoutMs: 400 }));
    try {
      const error = await rejectsWith(client.download('file.bin', memorySink().sink, { total: 100 }), 'timeout');
      assert.match(error.message, /^RETR file\.bin: the data connection stalled \(no bytes for 0\.4 s\)$/);
      // The owed final reply never came: the connection is closed rather than left out of
      // step (where PWD's 257 would be taken for RETR's reply).
      const control = fake.sessions[0]!.socket;
      assert.ok(await waitFor(() => control.destroyed || control.readableEnded, 2000), 'the client kept a connection whose dialogue is out of step');
      await rejectsWith(client.pwd(), 'timeout');
    } finally {
      client.close().catch(() => undefined);
    }
  });

  test('a throttled download is not a stall while the throttle passes bytes on (its socket is paused meanwhile)', async () => {
    // 128 KiB at 48 KiB/s take about 2.5 s; the throttle takes the socket's reads of up to
    // 64 KiB whole and holds each for over a second, the socket paused meanwhile (longer
    // than the 0.5 s timeout); but bytes leave the throttle every 1/8 s.
    const file = randomData(128 * 1024);
    const fake = await fakeServer({
      handlers: {
        RETR: async (s) => {
          const data = await s.data();
          s.send('150 Opening data connection.');
          await endData(data, file);
          s.send('226 Sent.');
        },
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { forcePasv: true, timeoutMs: 500 }));
    try {
      const { sink, data } = memorySink();
      await client.download('file.bin', sink, { total: file.length, rateLimit: 48 * 1024 });
      assert.equal(sha256(data()), sha256(file));
    } finally {
      await client.close();
    }
  });

  test('an abort with a server that says nothing after ABOR ends within the reply timeout (the connection is closed), not never', async () => {
    const fake = await fakeServer({
      handlers: {
        RETR: async (s) => {
          const data = await s.data();
          s.send('150 Opening data connection.');
          data.write(randomData(4096)); // then neither the rest nor any reply
        },
        ABOR: () => undefined,
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { forcePasv: true, timeoutMs: 500 }));
    try {
      const controller = new AbortController();
      const download = client.download('file.bin', memorySink().sink, { total: 1 << 20, signal: controller.signal, onProgress: () => controller.abort() });
      await rejectsWith(withTimeout(download, 5000, 'the aborted download'), 'aborted');
      assert.ok(fake.sessions[0]!.commands.includes('ABOR'));
      await rejectsWith(client.pwd(), 'timeout');
    } finally {
      client.close().catch(() => undefined);
    }
  });

  test('active mode: an abort while waiting for the server to connect back ends the wait at once, and the session stays usable', async () => {
    const fake = await fakeServer({
      handlers: {
        PORT: (s) => s.send('200 PORT ok.'),
        RETR: (s) => s.send('150 Opening data connection.'), // and never connects
        ABOR: (s) => {
          s.send('426 Transfer aborted.');
          s.send('226 ABOR successful.');
        },
      },
    });
    // The client would wait 30 s for the server to connect; the abort must not wait for that.
    const client = await FtpClient.connect(clientOptions(fake.port, { dataMode: 'active', timeoutMs: 30_000 }));
    try {
      const download = client.download('file.bin', memorySink().sink, { total: 1, signal: AbortSignal.timeout(100) });
      await rejectsWith(withTimeout(download, 5000, 'the aborted download'), 'aborted');
      assert.equal(await client.pwd(), '/', 'the session is still in step');
    } finally {
      await client.close();
    }
  });

  test('active mode: a server that never connects back times out with the address and a hint to use passive mode', async () => {
    const fake = await fakeServer({
      handlers: {
        PORT: (s) => s.send('200 PORT ok.'),
        RETR: (s) => s.send('150 Opening data connection.'),
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { dataMode: 'active', timeoutMs: 400 }));
    try {
      const error = await rejectsWith(client.download('file.bin', memorySink().sink, { total: 1 }), 'timeout');
      assert.match(error.message, /^the server did not open the active data connection to 127\.0\.0\.1:\d+ within 0\.4 s: .*try passive mode$/);
    } finally {
      client.close().catch(() => undefined);
    }
  });

  test('150 sent after the data, and multi-line replies with code-like lines inside', async () => {
    const fake = await fakeServer({
      greeting: ['220-Welcome to the fake server.', '220-226 this line only looks like a final reply', '150 neither does this one', ' 220 nor this (leading space)', '220 Ready.'],
      handlers: {
        FEAT: (s) => s.send('211-Features:\r\n MDTM\r\n SIZE\r\n211-not the end\r\n UTF8\r\n211 End'),
        OPTS: (s) => s.send('200 UTF8 on.'),
        PWD: (s) => s.send('257 "/a ""quoted"" dir" is the current directory'),
        SIZE: (s) => s.send(`213 ${ALL_BYTES.length}`),
        HELP: (s) => s.send('214-Commands:\r\n200 this is not the end\r\n 214 nor this (leading space)\r\n214-nor this\r\n214 End of help.'),
        RETR: async (s) => {
          const data = await s.data();
          await endData(data, ALL_BYTES);
          await sleep(20);
          s.send('150-Here it comes\r\n226 (not yet)\r\n150 Opening BINARY connection.');
          s.send('226-Transfer complete.\r\n150 old news\r\n226-still going\r\n226 Done.');
        },
        LIST: async (s) => {
          const data = await s.data();
          await endData(data, '-rw-r--r--    1 1000     1000         1234 Jan 02  2020 report.pdf\r\ndrwxr-xr-x    2 1000     1000         4096 Jan 02  2020 folder\r\n');
          await sleep(20);
          s.send('150 Listing (after the data).');
          s.send('226 Done.');
        },
        MDTM: (s) => s.send('213 20200102030405'),
      },
    });
    const trace = recorder();
    const client = await FtpClient.connect(clientOptions(fake.port, { trace: trace.trace }));
    try {
      assert.ok(client.features.has('MDTM') && client.features.has('UTF8') && client.features.has('SIZE'));
      assert.ok(fake.sessions[0]!.commands.includes('OPTS UTF8 ON'), 'UTF8 in FEAT turns it on');
      assert.equal(await client.pwd(), '/a "quoted" dir');
      const help = await client.send('HELP');
      assert.equal(help.code, 214);
      assert.equal(help.lines.length, 5);
      assert.equal(help.message, 'Commands:\n200 this is not the end\n 214 nor this (leading space)\n214-nor this\nEnd of help.');
      assert.equal(await client.size('x'), ALL_BYTES.length);
      for (let round = 0; round < 3; round++) {
        const { sink, data } = memorySink();
        const events: number[] = [];
        await client.download('file.bin', sink, { onProgress: (p) => events.push(p.total ?? -1) });
        assert.equal(sha256(data()), sha256(ALL_BYTES), `round ${round}`);
        assert.ok(events.every((t) => t === ALL_BYTES.length), 'the total came from SIZE');
      }
      const entries = await client.list();
      assert.deepEqual(
        entries.map((e) => [e.name, e.type, e.size]),
        [
          ['report.pdf', 'file', 1234],
          ['folder', 'directory', 4096],
        ],
      );
      assert.equal((await client.lastModified('x')).toISOString(), '2020-01-02T03:04:05.000Z');
      assert.equal(await client.pwd(), '/a "quoted" dir', 'still in step after all that');
    } finally {
      await client.close();
    }
    assert.ok(trace.lines.includes('220-226 this line only looks like a final reply'));
  });

  test('a 120 greeting before the 220, and a USER that logs in without PASS', async () => {
    const fake = await fakeServer({ greeting: ['120 Ready in a moment.', '220 Ready now.'], handlers: { USER: (s) => s.send('230 No password needed.') } });
    const client = await FtpClient.connect(clientOptions(fake.port));
    try {
      assert.equal(await client.pwd(), '/');
    } finally {
      await client.close();
    }
    assert.ok(!fake.sessions[0]!.commands.some((c) => c.startsWith('PASS')), 'no PASS after 230');
  });

  test('a 421 greeting is an error with its code', async () => {
    const fake = await fakeServer({ greeting: ['421 Too many connections.'] });
    const error = await rejectsWith(FtpClient.connect(clientOptions(fake.port)), 'reply');
    assert.equal(error.code, 421);
  });

  test('a server that never greets: kind timeout, promptly', async () => {
    const fake = await fakeServer({ greeting: null });
    const started = Date.now();
    await rejectsWith(FtpClient.connect(clientOptions(fake.port, { timeoutMs: 300 })), 'timeout');
    assert.ok(Date.now() - started < 3000);
  });

  test(
    'an AbortSignal aborts a connect that waits for the greeting',
    async () => {
      const fake = await fakeServer({ greeting: null });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      await rejectsWith(FtpClient.connect(clientOptions(fake.port, { timeoutMs: 3000, signal: controller.signal })), 'aborted');
      assert.ok(Date.now() - started < 1500);
    },
  );

  test(
    'an already aborted signal refuses to connect',
    async () => {
      const fake = await fakeServer();
      await rejectsWith(FtpClient.connect(clientOptions(fake.port, { signal: AbortSignal.abort() })), 'aborted');
      assert.equal(fake.sessions.length === 0 || !fake.sessions[0]!.commands.includes('USER u'), true, 'did not log in');
    },
  );

  test(
    'a reply that arrives after its timeout does not answer the next command',
    async () => {
      const fake = await fakeServer({
        handlers: {
          SIZE: async (s) => {
            await sleep(600);
            s.send('213 42');
          },
        },
      });
      const client = await FtpClient.connect(clientOptions(fake.port, { timeoutMs: 300 }));
      try {
        await rejectsWith(client.size('slow'), 'timeout');
        await sleep(500); // the late "213 42" arrives now
        // Either the connection is refused from now on, or the next command gets its own reply.
        const outcome = await client.pwd().then(
          (pwd) => pwd,
          (error: FtpClientError) => error.kind,
        );
        assert.ok(outcome === '/' || outcome === 'network' || outcome === 'timeout', `pwd() gave ${outcome}`);
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  );

  test('the server closing the control connection: kind network', async () => {
    const fake = await fakeServer({ handlers: { SIZE: (s) => void s.socket.destroy() } });
    const client = await FtpClient.connect(clientOptions(fake.port));
    try {
      await rejectsWith(client.size('x'), 'network');
      await rejectsWith(client.pwd(), 'network');
    } finally {
      await client.close();
    }
  });

  test('something that is not FTP: kind protocol', async () => {
    const fake = await fakeServer({ greeting: ['HTTP/1.1 400 Bad Request', ''] });
    await rejectsWith(FtpClient.connect(clientOptions(fake.port)), 'protocol');
  });

  test('an unparsable 227 or 229 reply: kind protocol', async () => {
    const bad227 = await fakeServer({ handlers: { PASV: (s) => s.send('227 Entering Passive Mode (nonsense)') } });
    let client = await FtpClient.connect(clientOptions(bad227.port));
    try {
      await rejectsWith(client.download('x', memorySink().sink, { total: 1 }), 'protocol');
    } finally {
      await client.close();
    }
    const bad229 = await fakeServer({ handlers: { EPSV: (s) => s.send('229 Entering Extended Passive Mode (|||99999|)') } });
    client = await FtpClient.connect(clientOptions(bad229.port));
    try {
      await rejectsWith(client.download('x', memorySink().sink, { total: 1 }), 'protocol');
    } finally {
      await client.close();
    }
  });

  test('active mode: EPRT refused with 500 falls back to PORT; the server connects back', async () => {
    const fake = await fakeServer({ handlers: activeHandlers });
    const trace = recorder();
    await downloadFileBin(fake.port, { dataMode: 'active', trace: trace.trace });
    const lines = trace.lines.join('\n');
    assert.match(lines, /^EPRT refused \(500\); trying PORT$/m);
    assert.match(lines, /^---> PORT 127,0,0,1,\d+,\d+$/m);
    assert.match(lines, /^PORT: client listens on 127\.0\.0\.1 port \d+\*256\+\d+ = \d+$/m);
    assert.match(lines, /^data connection: server 127\.0\.0\.1:\d+ -> client 127\.0\.0\.1:\d+ \(active, opened by the server\)$/m);
  });

  test('a 227 pointing at a closed port is kind network; the connection stays usable', async () => {
    const closed = await closedPort();
    const fake = await fakeServer({ handlers: { PASV: (s) => s.send(`227 Entering Passive Mode (127,0,0,1,${closed >> 8},${closed & 255})`) } });
    const client = await FtpClient.connect(clientOptions(fake.port));
    try {
      await rejectsWith(client.download('x', memorySink().sink, { total: 1 }), 'network');
      assert.ok(!fake.sessions[0]!.commands.some((c) => c.startsWith('RETR')), 'RETR is not sent without a data connection');
      assert.equal(await client.pwd(), '/');
    } finally {
      await client.close();
    }
  });

  test('active mode: a server that never connects back is kind timeout', async () => {
    const fake = await fakeServer({
      handlers: {
        EPRT: (s) => s.send('200 EPRT ok.'),
        RETR: (s) => s.send('150 I will never connect.'),
      },
    });
    const client = await FtpClient.connect(clientOptions(fake.port, { dataMode: 'active', timeoutMs: 400 }));
    const started = Date.now();
    try {
      await rejectsWith(client.download('x', memorySink().sink, { total: 1 }), 'timeout');
      assert.ok(Date.now() - started < 3000);
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  /** A fake server with MLSD: `listings` by path (the MLSD argument), `contents` for RETR. */
  async function mlsdServer(listings: (path: string) => string[] | undefined, contents: Record<string, Buffer> = {}, extra: Record<string, Handler> = {}) {
    const retrieved: string[] = [];
    const fake = await fakeServer({
      handlers: {
        FEAT: (s) => s.send('211-Features:\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End'),
        MLSD: async (s, arg) => {
          const listing = listings(arg);
          if (listing === undefined) return s.send('550 No such directory.');
          const data = await s.data();
          s.send('150 Here it comes.');
          await endData(data, listing.map((l) => `${l}\r\n`).join(''));
          s.send('226 Done.');
        },
        RETR: retrFrom(contents, retrieved),
        ...extra,
      },
    });
    return { ...fake, retrieved };
  }

  test('downloadDir refuses every name that could leave the target (.., ../x, a/b, C:x, x\\y, absolute, control characters) and writes nothing outside it', async () => {
    const file = (name: string, size = 3) => `type=file;size=${size};modify=20200102030405; ${name}`;
    const folder = (name: string) => `type=dir;modify=20200102030405; ${name}`;
    const hostile = ['..', '../x', '../../escape.txt', 'a/b', 'C:x', 'c:', 'x\\y', '..\\up.txt', '/tmp/absolute.txt', 'C:\\Windows\\evil.txt', 'nul\0byte', 'esc\u001bname', 'del\u007f'];
    const fake = await mlsdServer(
      (path) =>
        ({
          '': [...hostile.map((name) => file(name)), folder('..'), folder('../up'), folder('C:'), file('ok.txt', ALL_BYTES.length), folder('sub'), file('split\r\nDELE ok.txt', 5)],
          sub: [...hostile.map((name) => file(name)), file('inner.txt', 5), folder('.')],
        })[path],
      { 'ok.txt': ALL_BYTES, 'sub/inner.txt': Buffer.from('inner'), split: Buffer.from('split') },
    );
    const work = scratchDir('ferry-client-hostile-lib-');
    try {
      const target = join(work.dir, 'deep', 'target');
      const refused: string[] = [];
      const client = await FtpClient.connect(clientOptions(fake.port));
      try {
        const result = await client.downloadDir('', target, { onRefused: ({ directory, name }) => refused.push(`${directory}|${name}`) });
        assert.equal(result.transferred, 3);
      } finally {
        await client.close();
      }
      assert.deepEqual([...hashTree(target).keys()].sort(), ['ok.txt', 'split', 'sub/', 'sub/inner.txt']);
      assert.equal(hashTree(target).get('ok.txt'), sha256(ALL_BYTES));
      assert.deepEqual(fake.retrieved.sort(), ['ok.txt', 'split', 'sub/inner.txt'], 'only safe names were requested');
      assert.ok(!fake.sessions.some((s) => s.commands.some((c) => c.startsWith('DELE'))), 'a CR/LF in a listing line never becomes a command');
      // The MLSD parser drops "." and ".." itself; every other bad name reaches the check and is refused there.
      const checked = hostile.filter((n) => n !== '..');
      const expectedRefusals = [...checked.map((n) => `|${n}`), '|../up', '|C:', ...checked.map((n) => `sub|${n}`)];
      assert.deepEqual(refused.sort(), expectedRefusals.sort());
      assert.deepEqual(readdirSync(join(work.dir, 'deep')), ['target'], 'nothing written beside the target');
      assert.deepEqual(readdirSync(work.dir), ['deep'], 'nothing written above it');
      assert.ok(!existsSync('/tmp/absolute.txt'));
    } finally {
      work.remove();
    }
  });

  test('downloadDir stops at 64 nested folders: a server that invents folders forever cannot keep it walking', async () => {
    const fake = await mlsdServer(() => ['type=dir; d']);
    const client = await FtpClient.connect(clientOptions(fake.port));
    try {
      const refusals: string[] = [];
      const work = scratchDir('ferry-client-deep-');
      try {
        await client.downloadDir('', join(work.dir, 'target'), { dryRun: true, onRefused: ({ reason }) => refusals.push(reason) });
      } finally {
        work.remove();
      }
      assert.deepEqual(refusals, ['nested deeper than 64 folders']);
      assert.equal(fake.sessions[0]!.commands.filter((c) => c.startsWith('MLSD')).length, 65, 'the root and 64 folders');
    } finally {
      await client.close();
    }
  });

  test('removeDir recursive stops at 64 nested folders: a server that invents folders forever cannot keep rm -r going', async () => {
    // 200 levels, then 550: without the limit the test ends too, with another error.
    const fake = await mlsdServer((path) => (path.split('/').length < 200 ? ['type=dir; d'] : undefined));
    const client = await FtpClient.connect(clientOptions(fake.port));
    try {
      const error = await rejectsWith(client.removeDir('top', { recursive: true }), 'protocol');
      assert.match(error.message, /nested deeper than 64 folders/);
      const commands = fake.sessions[0]!.commands;
      assert.equal(commands.filter((c) => c.startsWith('MLSD')).length, 65, 'top and 64 folders below it');
      assert.ok(!commands.some((c) => c.startsWith('RMD') || c.startsWith('DELE')), 'nothing removed');
    } finally {
      await client.close();
    }
  });

  test('downloadDir with parallel 3 on a server allowing one connection (421 to the others): warns once and finishes over the one', async () => {
    let sessions = 0;
    const fake = await mlsdServer(
      (path) => (path === '' ? ['type=file;size=5; a.txt', 'type=file;size=5; b.txt', 'type=file;size=5; c.txt'] : undefined),
      { 'a.txt': Buffer.from('aaaaa'), 'b.txt': Buffer.from('bbbbb'), 'c.txt': Buffer.from('ccccc') },
      {
        USER: (s) => {
          if (++sessions === 1) return s.send('331 Password please.');
          s.send('421 Too many connections for this user.');
          s.socket.end();
        },
      },
    );
    const work = scratchDir('ferry-client-one-connection-');
    try {
      const target = join(work.dir, 'target');
      const warnings: string[] = [];
      const client = await FtpClient.connect(clientOptions(fake.port));
      try {
        const result = await client.downloadDir('', target, { parallel: 3, onWarning: (message) => warnings.push(message) });
        assert.equal(result.transferred, 3);
      } finally {
        await client.close();
      }
      assert.deepEqual([...hashTree(target).entries()].sort(), [['a.txt', sha256('aaaaa')], ['b.txt', sha256('bbbbb')], ['c.txt', sha256('ccccc')]]);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /^could not open connection 2 of 3 \(.*421.*\); going on with 1 connection$/);
      assert.equal(sessions, 2, 'no third connection tried after the refusal');
    } finally {
      work.remove();
    }
  });

  test('downloadDir with delete: a type clash is replaced before the transfers, extra entries deleted only after them (a failed transfer leaves them)', async () => {
    const fake = await mlsdServer(
      (path) => (path === '' ? ['type=file;size=5; clash', 'type=file;size=9; missing.bin'] : undefined),
      { clash: Buffer.from('clash') },
    );
    const work = scratchDir('ferry-client-delete-last-');
    try {
      const target = join(work.dir, 'target');
      mkdirSync(join(target, 'clash'), { recursive: true });
      writeFileSync(join(target, 'clash', 'old.txt'), 'old\n');
      writeFileSync(join(target, 'extra.txt'), 'only here\n');
      const client = await FtpClient.connect(clientOptions(fake.port));
      try {
        await rejectsWith(client.downloadDir('', target, { delete: true }), 'not-found', 550);
      } finally {
        await client.close();
      }
      assert.deepEqual([...hashTree(target).keys()].sort(), ['clash', 'extra.txt'], 'the folder replaced by the file; extra.txt kept');
      assert.equal(hashTree(target).get('clash'), sha256('clash'));
    } finally {
      work.remove();
    }
  });

  test('ferry mirror --delete from a remote file (listed by LIST as a one-entry tree) fails with exit 4 and deletes nothing', async () => {
    const line = `-rw-r--r--    1 1000     1000           12 Jan 02  2020 index.html`;
    const fake = await fakeServer({
      handlers: {
        LIST: async (s) => {
          const data = await s.data();
          s.send('150 Here it comes.');
          await endData(data, `${line}\r\n`);
          s.send('226 Done.');
        },
        SIZE: (s, arg) => s.send(arg === 'site/index.html' ? '213 12' : '550 Not a plain file.'),
        CWD: (s) => s.send('550 Not a directory.'),
        RETR: (s) => s.send('550 No.'),
      },
    });
    const work = scratchDir('ferry-client-file-source-');
    try {
      const www = join(work.dir, 'www');
      mkdirSync(join(www, 'img'), { recursive: true });
      writeFileSync(join(www, 'about.html'), 'about\n');
      writeFileSync(join(www, 'img', 'logo.png'), 'png\n');
      const before = hashTree(www);
      const result = await runFerry(['mirror', '--delete', '-P', '1', `ftp://u@127.0.0.1:${fake.port}/site/index.html`, www], { env: { FERRY_PASSWORD: 'p' } });
      assert.equal(result.code, 4, result.describe());
      assert.match(result.stderr, /site\/index\.html: Not a directory/, result.describe());
      assert.deepEqual(hashTree(www), before, 'nothing deleted in the target');
    } finally {
      work.remove();
    }
  });

  test('Ctrl-C during ferry mirror: ABOR, "interrupted: mirror after 1 of 2 files", exit 130', async () => {
    const STALL_SIZE = 1024 * 1024;
    let stalled: Socket | undefined;
    const fake = await mlsdServer(
      (path) => (path === '' ? [`type=file;size=5; a.txt`, `type=file;size=${STALL_SIZE}; b.bin`] : undefined),
      { 'a.txt': Buffer.from('aaaaa') },
      {
        // b.bin: the first 64 KiB, then nothing until ABOR.
        RETR: async (s, arg) => {
          const data = await s.data();
          if (arg !== 'b.bin') {
            s.send('150 Sending.');
            await endData(data, 'aaaaa');
            return s.send('226 Sent.');
          }
          stalled = data;
          s.send('150 Sending slowly.');
          data.write(Buffer.alloc(64 * 1024, 1));
        },
        ABOR: (s) => {
          stalled?.destroy();
          s.send('426 Transfer aborted.');
          s.send('226 ABOR successful.');
        },
      },
    );
    const work = scratchDir('ferry-client-mirror-sigint-');
    try {
      const target = join(work.dir, 'target');
      let signalled = false;
      const result = await runFerry(['mirror', '-P', '1', '-d', `ftp://u@127.0.0.1:${fake.port}/`, target], {
        env: { FERRY_PASSWORD: 'p' },
        onStart: (child) => {
          const partial = join(target, 'b.bin');
          void waitFor(() => existsSync(partial) && statSync(partial).size >= 64 * 1024, 20_000).then((started) => {
            signalled = started && child.kill('SIGINT');
          });
        },
      });
      assert.ok(signalled, result.describe());
      assert.equal(result.code, 130, result.describe());
      assert.match(result.stderr, /^---> ABOR$/m, result.describe());
      assert.match(result.stderr, /^ferry: interrupted: mirror after 1 of 2 files; run it again with -c to resume$/m, result.describe());
      assert.equal(hashTree(target).get('a.txt'), sha256('aaaaa'));
    } finally {
      work.remove();
    }
  });

  test('ferry mirror ignores hostile names in a listing ("..", "../x", "a/b", "C:x", "x\\y", absolute) and warns about them', async () => {
    const line = (type: string, name: string, size = 3) => `${type}rw-r--r--    1 1000     1000 ${String(size).padStart(12)} Jan 02  2020 ${name}`;
    const listings: Record<string, string[]> = {
      '': [line('d', '.'), line('d', '..'), line('-', '../escape.txt'), line('-', 'a/b.txt'), line('-', 'C:x'), line('-', 'x\\y'), line('-', '/tmp/abs.txt'), line('-', 'ok.txt', ALL_BYTES.length), line('d', 'sub')],
      sub: [line('-', '../../escape2.txt'), line('-', 'inner.txt', 5), line('d', '..')],
    };
    const contents: Record<string, Buffer> = { 'ok.txt': ALL_BYTES, 'sub/inner.txt': Buffer.from('inner') };
    const retrieved: string[] = [];
    const fake = await fakeServer({
      handlers: {
        LIST: async (s, arg) => {
          const listing = listings[arg];
          if (listing === undefined) return s.send('550 No such directory.');
          const data = await s.data();
          await endData(data, listing.map((l) => `${l}\r\n`).join(''));
          s.send('150 Here it comes.');
          s.send('226 Done.');
        },
        RETR: retrFrom(contents, retrieved),
      },
    });
    const work = scratchDir('ferry-client-hostile-');
    try {
      const target = join(work.dir, 'deep', 'target');
      const result = await runFerry(['mirror', '-P', '1', `ftp://u@127.0.0.1:${fake.port}/`, target], { env: { FERRY_PASSWORD: 'p' } });
      assert.equal(result.code, 0, result.describe());
      assert.match(result.stderr, /^ferry: not copied: "\.\.\/escape\.txt" in "\.": contains a path separator$/m, result.describe());
      assert.match(result.stderr, /^ferry: not copied: "C:x" in "\.": starts with a drive letter$/m, result.describe());
      assert.deepEqual([...hashTree(target).keys()].sort(), ['ok.txt', 'sub/', 'sub/inner.txt']);
      assert.equal(hashTree(target).get('ok.txt'), sha256(ALL_BYTES));
      assert.deepEqual(retrieved.sort(), ['ok.txt', 'sub/inner.txt'], 'only safe names were requested');
      assert.deepEqual(readdirSync(join(work.dir, 'deep')), ['target'], 'nothing written beside the target');
      assert.ok(!existsSync(join(work.dir, 'escape2.txt')) && !existsSync(join(work.dir, 'deep', 'escape.txt')));
    } finally {
      work.remove();
    }
  });
});
