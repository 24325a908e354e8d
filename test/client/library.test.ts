/**
 * The FtpClient library against an in-process Ferry server: every method in passive and
 * active mode, byte-exact transfers, resume, append, progress, MLSD listings, recursive
 * mkdir/removeDir, typed errors, cancellation, CR/LF refusal, the trace, and FTPS
 * (explicit and implicit, passive and active, with data-connection session resumption).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Readable, Writable } from 'node:stream';
import { FtpClient, type Progress } from '../../src/client/client.js';
import { FtpClientError } from '../../src/client/errors.js';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, READONLY_USER, USER } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { abortBigDownload, BIG_SIZE, clientSessions, closedPort, downloadToBuffer, memorySink, randomData, recorder, rejectsWith, startFerry, writeServerFiles, type FerryFixture } from './support.js';

const MODES = ['passive', 'active'] as const;

let ferry: FerryFixture;
let local: { dir: string; remove: () => void };
const { options, withClient } = clientSessions(() => ({ host: ferry.host, port: ferry.port, user: USER, password: PASSWORD }));

before(async () => {
  ferry = await startFerry({ tls: true });
  local = scratchDir();
  writeServerFiles((name, data) => writeFileSync(join(ferry.root, name), data));
});

after(async () => {
  await ferry?.stop();
  local?.remove();
});

function checkProgress(events: Progress[], size: number, startAt = 0): void {
  assert.ok(events.length > 0, 'progress events');
  let previous = startAt;
  for (const event of events) {
    assert.ok(event.bytes > previous, `progress must increase: ${previous} -> ${event.bytes}`);
    assert.equal(event.total, size, 'total known on every event');
    previous = event.bytes;
  }
  assert.equal(events.at(-1)!.bytes, size, 'last progress event equals the size');
}

/** A download, an upload and a listing of a path with CR/LF and a DELE smuggled in. */
function transferPathInjections(client: FtpClient): Array<() => Promise<unknown>> {
  const evil = 'x.txt\r\nDELE all-bytes.bin';
  return [
    () => client.download(evil, memorySink().sink, { total: 1 }),
    () => client.upload(Readable.from([Buffer.from('x')]), evil),
    () => client.list(evil),
  ];
}

for (const dataMode of MODES) {
  describe(`FtpClient against Ferry, ${dataMode} mode`, () => {
    const dir = `lib-${dataMode}`;
    const hostDir = () => join(ferry.root, dir);

    before(() => mkdirSync(hostDir(), { recursive: true }));

    test('connect, features, pwd, cd, send', () =>
      withClient({ dataMode }, async (client) => {
        assert.ok(client.features.has('MLST'), 'Ferry announces MLST');
        assert.ok(client.features.has('EPSV'));
        assert.equal(await client.pwd(), '/');
        await client.cd(dir);
        assert.equal(await client.pwd(), `/${dir}`);
        await client.cd('..');
        assert.equal(await client.pwd(), '/');
        const noop = await client.send('NOOP');
        assert.equal(noop.code, 200);
        const unknown = await client.send('XYZZY');
        assert.equal(unknown.code, 500, 'send() returns negative replies instead of throwing');
        await rejectsWith(client.cd('no-such-dir'), 'not-found', 550);
      }));

    test('downloads are byte-exact (every byte value; a few MiB of random data; to a path and to a stream)', () =>
      withClient({ dataMode }, async (client) => {
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
        const target = join(local.dir, `random-${dataMode}.bin`);
        await client.download('/random.bin', target);
        assert.equal(sha256File(target), sha256(randomData()));
        const empty = join(hostDir(), 'empty.bin');
        writeFileSync(empty, '');
        assert.equal((await downloadToBuffer(client, `${dir}/empty.bin`)).length, 0);
      }));

    test('uploads are byte-exact (from a path and from a stream)', () =>
      withClient({ dataMode }, async (client) => {
        const source = join(local.dir, `upload-source-${dataMode}.bin`);
        writeFileSync(source, randomData());
        await client.upload(source, `${dir}/random-up.bin`);
        assert.equal(sha256File(join(hostDir(), 'random-up.bin')), sha256(randomData()));
        await client.upload(Readable.from([ALL_BYTES.subarray(0, 1000), ALL_BYTES.subarray(1000)]), `/${dir}/all-bytes-up.bin`);
        assert.equal(sha256File(join(hostDir(), 'all-bytes-up.bin')), sha256(ALL_BYTES));
        assert.equal(await client.size(`${dir}/all-bytes-up.bin`), ALL_BYTES.length);
      }));

    test('download resumes with startAt (into a partial local file and into a stream)', () =>
      withClient({ dataMode }, async (client) => {
        const data = randomData();
        const half = 1_000_003;
        const partial = join(local.dir, `partial-${dataMode}.bin`);
        writeFileSync(partial, data.subarray(0, half));
        const events: Progress[] = [];
        await client.download('random.bin', partial, { startAt: half, onProgress: (p) => events.push({ ...p }) });
        assert.equal(sha256File(partial), sha256(data));
        checkProgress(events, data.length, half);
        const { sink, data: tail } = memorySink();
        await client.download('random.bin', sink, { startAt: data.length - 100 });
        assert.deepEqual(tail(), data.subarray(data.length - 100));
      }));

    test('upload resumes with startAt', () =>
      withClient({ dataMode }, async (client) => {
        const data = randomData();
        const half = 777_777;
        writeFileSync(join(hostDir(), 'resume-up.bin'), data.subarray(0, half));
        const source = join(local.dir, `resume-source-${dataMode}.bin`);
        writeFileSync(source, data);
        const events: Progress[] = [];
        await client.upload(source, `${dir}/resume-up.bin`, { startAt: half, total: data.length, onProgress: (p) => events.push({ ...p }) });
        assert.equal(sha256File(join(hostDir(), 'resume-up.bin')), sha256(data));
        checkProgress(events, data.length, half);
      }));

    test('append (append() and upload with append: true)', () =>
      withClient({ dataMode }, async (client) => {
        writeFileSync(join(hostDir(), 'log.txt'), 'one\n');
        await client.append(Readable.from([Buffer.from('two\n')]), `${dir}/log.txt`);
        await client.upload(Readable.from([Buffer.from('three\n')]), `${dir}/log.txt`, { append: true });
        assert.equal(readFileSync(join(hostDir(), 'log.txt'), 'utf8'), 'one\ntwo\nthree\n');
        await client.append(Readable.from([Buffer.from('new\n')]), `${dir}/appended-new.txt`);
        assert.equal(readFileSync(join(hostDir(), 'appended-new.txt'), 'utf8'), 'new\n');
      }));

    test('progress events: increasing, total known, last equals the size', () =>
      withClient({ dataMode }, async (client) => {
        const size = randomData().length;
        const down: Progress[] = [];
        const { sink } = memorySink();
        await client.download('random.bin', sink, { onProgress: (p) => down.push({ ...p }) });
        checkProgress(down, size);
        assert.ok(down.length > 1, 'several events for a few MiB');
        const up: Progress[] = [];
        await client.upload(Readable.from([randomData()]), `${dir}/progress-up.bin`, { total: size, onProgress: (p) => up.push({ ...p }) });
        checkProgress(up, size);
      }));

    test('list uses MLSD: names, sizes and types', () =>
      withClient({ dataMode }, async (client) => {
        const listed = join(hostDir(), 'listed');
        mkdirSync(join(listed, 'sub'), { recursive: true });
        writeFileSync(join(listed, 'five.txt'), '12345');
        writeFileSync(join(listed, 'name with spaces.txt'), 'x'.repeat(100));
        writeFileSync(join(listed, '中文.txt'), ALL_BYTES);
        const trace = recorder();
        const traced = await FtpClient.connect(options({ dataMode, trace: trace.trace }));
        try {
          const entries = (await traced.list(`${dir}/listed`)).sort((a, b) => a.name.localeCompare(b.name));
          assert.ok(trace.lines.some((l) => l.startsWith('---> MLSD')), 'MLSD was used');
          assert.deepEqual(
            entries.map((e) => [e.name, e.type, e.type === 'file' ? e.size : null]),
            [
              ['five.txt', 'file', 5],
              ['name with spaces.txt', 'file', 100],
              ['sub', 'directory', null],
              ['中文.txt', 'file', ALL_BYTES.length],
            ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
          );
          for (const entry of entries) assert.ok(entry.modifiedAt instanceof Date && !Number.isNaN(entry.modifiedAt.getTime()), `${entry.name} has a date`);
        } finally {
          await traced.close();
        }
        // The login directory with no argument; cd then list relative.
        const top = await client.list();
        assert.ok(top.some((e) => e.name === 'random.bin' && e.type === 'file' && e.size === randomData().length));
        assert.ok(top.some((e) => e.name === dir && e.type === 'directory'));
        await client.cd(`${dir}/listed`);
        assert.equal((await client.list()).length, 4);
        assert.deepEqual(await client.list('sub'), []);
      }));

    test('size and lastModified', () =>
      withClient({ dataMode }, async (client) => {
        const path = join(hostDir(), 'dated.txt');
        writeFileSync(path, 'dated');
        const when = new Date(Date.UTC(2021, 6, 4, 12, 34, 56));
        utimesSync(path, when, when);
        assert.equal(await client.size(`${dir}/dated.txt`), 5);
        assert.equal((await client.lastModified(`${dir}/dated.txt`)).toISOString(), when.toISOString());
      }));

    test('mkdir (plain and recursive) and removeDir (plain and recursive)', () =>
      withClient({ dataMode }, async (client) => {
        await client.mkdir(`${dir}/plain`);
        assert.ok(existsSync(join(hostDir(), 'plain')));
        await rejectsWith(client.mkdir(`${dir}/plain`), 'not-found', 550);
        await rejectsWith(client.mkdir(`${dir}/missing-parent/child`), 'not-found', 550);
        await client.mkdir(`${dir}/deep/a/b/c`, { recursive: true });
        assert.ok(existsSync(join(hostDir(), 'deep/a/b/c')));
        await client.mkdir(`${dir}/deep/a/b/c`, { recursive: true }); // exists: fine
        await client.mkdir(`/${dir}/deep/a/x/`, { recursive: true }); // absolute, trailing slash
        assert.ok(existsSync(join(hostDir(), 'deep/a/x')));
        assert.equal(await client.pwd(), '/', 'recursive mkdir returns to the working directory');
        writeFileSync(join(hostDir(), 'deep/a/b/file.bin'), ALL_BYTES);
        writeFileSync(join(hostDir(), 'deep/top.txt'), 'top');
        await rejectsWith(client.removeDir(`${dir}/deep`), 'not-found', 550); // not empty
        await client.removeDir(`${dir}/plain`);
        assert.ok(!existsSync(join(hostDir(), 'plain')));
        await client.removeDir(`${dir}/deep`, { recursive: true });
        assert.ok(!existsSync(join(hostDir(), 'deep')));
        // A file in the way of a recursive mkdir.
        writeFileSync(join(hostDir(), 'a-file'), 'x');
        await rejectsWith(client.mkdir(`${dir}/a-file/child`, { recursive: true }), 'not-found', 550);
      }));

    test('rename and remove', () =>
      withClient({ dataMode }, async (client) => {
        writeFileSync(join(hostDir(), 'old.txt'), 'content');
        await client.rename(`${dir}/old.txt`, `${dir}/new.txt`);
        assert.ok(!existsSync(join(hostDir(), 'old.txt')));
        assert.equal(readFileSync(join(hostDir(), 'new.txt'), 'utf8'), 'content');
        mkdirSync(join(hostDir(), 'folder-a'), { recursive: true });
        await client.rename(`${dir}/folder-a`, `${dir}/folder-b`);
        assert.ok(existsSync(join(hostDir(), 'folder-b')));
        await client.remove(`${dir}/new.txt`);
        assert.ok(!existsSync(join(hostDir(), 'new.txt')));
        await rejectsWith(client.rename(`${dir}/old.txt`, `${dir}/x.txt`), 'not-found', 550);
      }));

    test('missing files are FtpClientError kind not-found, code 550; the connection stays usable', () =>
      withClient({ dataMode }, async (client) => {
        await rejectsWith(client.size('no-such-file'), 'not-found', 550);
        await rejectsWith(client.lastModified('no-such-file'), 'not-found', 550);
        await rejectsWith(client.remove('no-such-file'), 'not-found', 550);
        const error = await rejectsWith(client.download('no-such-file', memorySink().sink), 'not-found', 550);
        assert.match(error.message, /RETR no-such-file: 550/);
        assert.equal(error.command, 'RETR no-such-file');
        await rejectsWith(client.download('no-such-file', join(local.dir, `never-${dataMode}`), { total: 1 }), 'not-found', 550);
        await rejectsWith(client.list('no-such-dir'), 'not-found', 550);
        await rejectsWith(client.removeDir('no-such-dir', { recursive: true }), 'not-found', 550);
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
      }));

    test('a read-only user gets 550 on upload; the connection stays usable', async () => {
      const client = await FtpClient.connect(options({ dataMode, user: READONLY_USER }));
      try {
        await rejectsWith(client.upload(Readable.from([Buffer.from('x')]), 'denied.txt'), 'not-found', 550);
        assert.ok(!existsSync(join(ferry.root, 'denied.txt')));
        assert.equal(await client.size('all-bytes.bin'), ALL_BYTES.length);
      } finally {
        await client.close();
      }
    });

    test('cancelling a large download with an AbortController leaves the connection usable', () =>
      withClient({ dataMode }, async (client) => {
        let received = 0;
        const sink = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            callback();
          },
        });
        const started = Date.now();
        await abortBigDownload(client, sink);
        assert.ok(received < BIG_SIZE, `cancelled before the end (${received} of ${BIG_SIZE} bytes)`);
        assert.ok(Date.now() - started < 10_000, 'cancellation is prompt');
        // The control connection is in step: the next replies belong to the next commands.
        assert.equal(await client.pwd(), '/');
        const again = join(local.dir, `after-abort-${dataMode}.bin`);
        await client.download('random.bin', again);
        assert.equal(sha256File(again), sha256(randomData()));
        assert.equal(await client.size('all-bytes.bin'), ALL_BYTES.length);
        // An already aborted signal: refused at once, nothing breaks.
        await rejectsWith(client.download('random.bin', memorySink().sink, { signal: AbortSignal.abort() }), 'aborted');
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
      }));

    test('cancelling an upload leaves the connection usable', () =>
      withClient({ dataMode }, async (client) => {
        const controller = new AbortController();
        let sent = 0;
        // An endless source: only the abort can end this upload.
        const endless = new Readable({
          read() {
            sent += 64 * 1024;
            this.push(Buffer.alloc(64 * 1024, 0x41));
          },
        });
        await rejectsWith(
          client.upload(endless, `${dir}/cancelled-upload.bin`, {
            signal: controller.signal,
            onProgress: ({ bytes }) => {
              if (bytes >= 512 * 1024) controller.abort();
            },
          }),
          'aborted',
        );
        assert.ok(sent < 1024 * 1024 * 1024);
        assert.equal(await client.pwd(), '/');
        await client.upload(Readable.from([ALL_BYTES]), `${dir}/after-cancel.bin`);
        assert.equal(sha256File(join(hostDir(), 'after-cancel.bin')), sha256(ALL_BYTES));
      }));

    test('calls made at once run one at a time, in order', () =>
      withClient({ dataMode }, async (client) => {
        const results = await Promise.all([
          downloadToBuffer(client, 'all-bytes.bin'),
          client.size('random.bin'),
          client.list(),
          client.pwd(),
          client.download('no-such-file', memorySink().sink).then(
            () => 'resolved',
            (error: FtpClientError) => error.kind,
          ),
          downloadToBuffer(client, 'random.bin'),
        ]);
        assert.equal(sha256(results[0]), sha256(ALL_BYTES));
        assert.equal(results[1], randomData().length);
        assert.ok(results[2].some((e) => e.name === 'big.bin'));
        assert.equal(results[3], '/');
        assert.equal(results[4], 'not-found');
        assert.equal(sha256(results[5]), sha256(randomData()));
      }));
  });
}

describe('FtpClient timeouts measure silence, not the length of a transfer', () => {
  // The one timeout covers the login and every reply too: room for a loaded machine.
  const TIMEOUT_MS = 1000;

  for (const dataMode of MODES) {
    test(`a ${dataMode} download and upload that take many times the reply timeout complete`, () =>
      withClient({ dataMode, timeoutMs: TIMEOUT_MS }, async (client) => {
        const chunks: Buffer[] = [];
        const slowSink = new Writable({
          highWaterMark: 64 * 1024,
          write(chunk: Buffer, _encoding, callback) {
            chunks.push(chunk);
            setTimeout(callback, 6); // 512 writes: over 3 s in all
          },
        });
        let started = Date.now();
        await client.download('big.bin', slowSink);
        assert.ok(Date.now() - started > 2 * TIMEOUT_MS, `the download took only ${Date.now() - started} ms`);
        assert.equal(sha256(Buffer.concat(chunks)), sha256File(join(ferry.root, 'big.bin')));

        const piece = randomData().subarray(0, 64 * 1024);
        let sent = 0;
        const slowSource = new Readable({
          read() {
            if (sent === 24) return void this.push(null);
            sent++;
            setTimeout(() => this.push(piece), 100); // 24 pieces: 2.4 s
          },
        });
        started = Date.now();
        await client.upload(slowSource, `slow-${dataMode}.bin`);
        assert.ok(Date.now() - started > 2 * TIMEOUT_MS, `the upload took only ${Date.now() - started} ms`);
        assert.equal(sha256File(join(ferry.root, `slow-${dataMode}.bin`)), sha256(Buffer.concat(Array.from({ length: 24 }, () => piece))));
      }));
  }
});

describe('FtpClient errors, refusals and the trace (Ferry)', () => {
  test('a bad password is FtpClientError kind login, code 530', async () => {
    const error = await rejectsWith(FtpClient.connect(options({ password: 'wrong' })), 'login', 530);
    assert.doesNotMatch(error.message, /wrong/, 'the password is not in the message');
    assert.equal(error.command, 'PASS ****');
    assert.match(error.message, /^PASS \*\*\*\*: 530 /);
    await rejectsWith(FtpClient.connect(options({ user: 'nobody-here' })), 'login', 530);
  });

  test('a refused port is kind network', async () => {
    await rejectsWith(FtpClient.connect(options({ port: await closedPort() })), 'network');
  });

  test(
    'a failed download does not truncate an existing local file',
    () =>
      withClient({}, async (client) => {
        const precious = join(local.dir, 'precious.txt');
        writeFileSync(precious, 'local data that must survive');
        await rejectsWith(client.download('no-such-file', precious), 'not-found', 550);
        assert.equal(readFileSync(precious, 'utf8'), 'local data that must survive');
      }),
  );

  test(
    'a local file that cannot be opened rejects the call instead of crashing the process',
    async () => {
      // In a child process: the bug kills the process that hits it.
      const script = join(local.dir, 'open-failure.mjs');
      writeFileSync(
        script,
        `import { FtpClient } from ${JSON.stringify(new URL('../../src/client/client.js', import.meta.url).href)};
const [port, dir] = process.argv.slice(2);
const client = await FtpClient.connect({ host: '127.0.0.1', port: Number(port), user: ${JSON.stringify(USER)}, password: ${JSON.stringify(PASSWORD)} });
const outcome = (p) => p.then(() => 'resolved', (e) => e.code ?? e.kind ?? String(e));
const result = {};
result.download = await outcome(client.download('all-bytes.bin', dir + '/missing-folder/x.bin'));
result.resume = await outcome(client.download('all-bytes.bin', dir + '/missing-file.bin', { startAt: 10 }));
result.upload = await outcome(client.upload(dir + '/missing-source.bin', 'never.bin'));
result.pwd = await client.pwd();
await client.close();
console.log(JSON.stringify(result));
`,
      );
      const { stdout } = await promisify(execFile)(process.execPath, [script, String(ferry.port), local.dir], { timeout: 20_000 });
      const result = JSON.parse(stdout) as Record<string, string>;
      assert.notEqual(result.download, 'resolved');
      assert.notEqual(result.resume, 'resolved');
      assert.notEqual(result.upload, 'resolved');
      assert.equal(result.pwd, '/');
      assert.ok(!existsSync(join(ferry.root, 'never.bin')));
    },
  );

  test(
    'failed transfers do not leak file descriptors',
    {
      skip:
        process.platform !== 'linux'
          ? 'counts /proc/self/fd'
          : false,
    },
    () =>
      withClient({}, async (client) => {
        const source = join(local.dir, 'leak-source.txt');
        writeFileSync(source, 'x');
        const openFds = () => readdirSync('/proc/self/fd').length;
        const before = openFds();
        for (let i = 0; i < 10; i++) {
          await rejectsWith(client.download('no-such-file', join(local.dir, `leak-${i}.txt`)), 'not-found', 550);
          await rejectsWith(client.upload(source, 'no-such-dir/x.txt'), 'not-found', 550);
        }
        // Closes may land a moment later on a loaded machine; a leak never does.
        assert.ok(await waitFor(() => openFds() - before < 5, 5000), `file descriptors: ${before} before, ${openFds()} after 20 failed transfers`);
      }),
  );

  test('CR or LF in a path or command is refused with kind usage before anything is sent', () => {
    const trace = recorder();
    return withClient({ trace: trace.trace }, async (client) => {
      const evil = 'x.txt\r\nDELE all-bytes.bin';
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['size', () => client.size(evil)],
        ['lastModified', () => client.lastModified(evil)],
        ['cd', () => client.cd(evil)],
        ['remove', () => client.remove(evil)],
        ['rename from', () => client.rename(evil, 'y')],
        ['rename to', () => client.rename('all-bytes.bin', 'y\nDELE random.bin')],
        ['mkdir', () => client.mkdir(evil)],
        ['mkdir recursive', () => client.mkdir(`dir/${evil}`, { recursive: true })],
        ['removeDir', () => client.removeDir(evil)],
        ['send', () => client.send('NOOP\r\nDELE all-bytes.bin')],
        ['download', () => client.download(evil, memorySink().sink)],
      ];
      for (const [name, attempt] of attempts) {
        const mark = trace.lines.length;
        await rejectsWith(attempt(), 'usage');
        const sent = trace.since(mark).filter((l) => l.startsWith('---> '));
        assert.ok(!sent.some((l) => /DELE|[\r\n]/.test(l)), `${name}: the injected command was not sent: ${JSON.stringify(sent)}`);
        // "rename to" legitimately sends RNFR for the first (valid) name first.
        if (name !== 'rename to' && name !== 'mkdir recursive') assert.deepEqual(sent, [], `${name}: nothing was sent`);
      }
      assert.ok(existsSync(join(ferry.root, 'all-bytes.bin')) && existsSync(join(ferry.root, 'random.bin')));
      assert.equal(await client.pwd(), '/', 'the connection is still in step');
    });
  });

  test(
    'CR or LF in a transfer path is refused before the data connection is set up',
    () => {
      const trace = recorder();
      return withClient({ trace: trace.trace }, async (client) => {
        for (const attempt of transferPathInjections(client)) {
          const mark = trace.lines.length;
          await rejectsWith(attempt(), 'usage');
          assert.deepEqual(trace.since(mark).filter((l) => l.startsWith('---> ')), []);
        }
      });
    },
  );

  test('CR or LF in a transfer path never reaches the server (list, upload, download)', () => {
    const trace = recorder();
    return withClient({ trace: trace.trace }, async (client) => {
      for (const attempt of transferPathInjections(client)) {
        const mark = trace.lines.length;
        await rejectsWith(attempt(), 'usage');
        assert.ok(!trace.since(mark).some((l) => /DELE/.test(l)));
      }
      assert.ok(existsSync(join(ferry.root, 'all-bytes.bin')));
      assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
    });
  });

  test('the trace: masked PASS, 229/227 replies, data connection lines', async () => {
    for (const [dataMode, forcePasv] of [['passive', false], ['passive', true], ['active', false]] as const) {
      const trace = recorder();
      await withClient({ dataMode, forcePasv, trace: trace.trace }, (client) => downloadToBuffer(client, 'all-bytes.bin'));
      const lines = trace.lines;
      const context = `${dataMode}${forcePasv ? ' forcePasv' : ''}:\n${lines.join('\n')}`;
      assert.match(lines[0]!, /^Connected to 127\.0\.0\.1 \(127\.0\.0\.1\) port \d+\.$/, context);
      assert.ok(lines.includes(`---> USER ${USER}`), context);
      assert.ok(lines.includes('---> PASS XXXX'), context);
      assert.ok(lines.includes('230 Login successful.'), context);
      assert.ok(!lines.some((l) => l.includes(PASSWORD)), `the password never appears: ${context}`);
      if (dataMode === 'passive' && !forcePasv) {
        assert.ok(lines.some((l) => /^229 /.test(l)), context);
        assert.ok(lines.some((l) => /^EPSV: server listens on port \d+ of 127\.0\.0\.1$/.test(l)), context);
        assert.ok(!lines.includes('---> PASV'), context);
      }
      if (forcePasv) {
        assert.ok(!lines.includes('---> EPSV'), context);
        assert.ok(lines.some((l) => /^227 /.test(l)), context);
        const pasv = lines.find((l) => l.startsWith('PASV: server listens on '));
        assert.ok(pasv, context);
        const m = /on 127\.0\.0\.1 port (\d+)\*256\+(\d+) = (\d+)$/.exec(pasv);
        assert.ok(m, pasv);
        assert.equal(Number(m[1]) * 256 + Number(m[2]), Number(m[3]));
      }
      if (dataMode === 'active') {
        assert.ok(lines.some((l) => /^---> EPRT \|1\|127\.0\.0\.1\|\d+\|$/.test(l)), context);
        assert.ok(lines.some((l) => /^EPRT: client listens on 127\.0\.0\.1 port \d+$/.test(l)), context);
        assert.ok(lines.some((l) => /^data connection: server 127\.0\.0\.1:\d+ -> client 127\.0\.0\.1:\d+ \(active, opened by the server\)$/.test(l)), context);
      } else {
        assert.ok(lines.some((l) => /^data connection: client 127\.0\.0\.1:\d+ -> server 127\.0\.0\.1:\d+ \(passive, opened by the client\)$/.test(l)), context);
      }
      assert.ok(lines.some((l) => /^---> RETR all-bytes\.bin$/.test(l)) && lines.some((l) => /^226 /.test(l)), context);
      assert.equal(lines.at(-2), '---> QUIT', context);
    }
  });

  test('a failed login is traced with the password masked', async () => {
    const trace = recorder();
    await rejectsWith(FtpClient.connect(options({ password: 'hunter2', trace: trace.trace })), 'login', 530);
    assert.ok(trace.lines.includes('---> PASS XXXX'));
    assert.ok(!trace.lines.some((l) => l.includes('hunter2')));
  });
});

describe('FtpClient FTPS against Ferry', () => {
  const variants = [
    ['explicit', 'passive'],
    ['explicit', 'active'],
    ['implicit', 'passive'],
    ['implicit', 'active'],
  ] as const;

  for (const [secure, dataMode] of variants) {
    test(`${secure} FTPS, ${dataMode}: byte-exact transfers, data TLS resumes the control session`, async () => {
      const port = secure === 'implicit' ? ferry.implicitPort : ferry.port;
      assert.ok(port, 'Ferry runs an implicit FTPS listener');
      const trace = recorder();
      await withClient({ port, secure, dataMode, rejectUnauthorized: false, trace: trace.trace }, async (client) => {
        assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
        const remote = `tls-${secure}-${dataMode}.bin`;
        await client.upload(Readable.from([ALL_BYTES]), remote);
        assert.equal(sha256File(join(ferry.root, remote)), sha256(ALL_BYTES));
        assert.ok((await client.list()).some((e) => e.name === remote && e.size === ALL_BYTES.length));
      });
      const lines = trace.lines;
      const context = lines.join('\n');
      if (secure === 'explicit') {
        assert.ok(lines.includes('---> AUTH TLS'), context);
        assert.ok(lines.indexOf('---> AUTH TLS') < lines.indexOf(`---> USER ${USER}`), context);
      } else assert.ok(!lines.includes('---> AUTH TLS'), context);
      assert.ok(lines.some((l) => /^TLS: TLSv1\.[23] \S+, certificate not verified/.test(l)), context);
      assert.ok(lines.includes('---> PBSZ 0') && lines.includes('---> PROT P'), context);
      const dataTls = lines.filter((l) => l.startsWith('data connection TLS:'));
      assert.equal(dataTls.length, 3, context);
      for (const line of dataTls) assert.match(line, /session resumed from the control connection/, context);
      assert.ok(!lines.some((l) => l.includes(PASSWORD)), context);
    });
  }

  test('rejectUnauthorized (the default) refuses the self-signed certificate: kind tls', async () => {
    await rejectsWith(FtpClient.connect(options({ secure: 'explicit' })), 'tls');
    await rejectsWith(FtpClient.connect(options({ secure: 'explicit', rejectUnauthorized: true })), 'tls');
    await rejectsWith(FtpClient.connect(options({ port: ferry.implicitPort!, secure: 'implicit' })), 'tls');
  });

  test('the certificate given as ca verifies (explicit and implicit)', async () => {
    const ca = ferry.certificate!.certPem;
    for (const [secure, port] of [['explicit', ferry.port], ['implicit', ferry.implicitPort!]] as const) {
      for (const host of ['127.0.0.1', 'localhost']) {
        const trace = recorder();
        await withClient({ host, port, secure, ca, trace: trace.trace }, async (client) => {
          assert.equal(await client.size('all-bytes.bin'), ALL_BYTES.length);
          assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
        });
        assert.ok(trace.lines.some((l) => /^TLS: .*certificate verified$/.test(l)), trace.lines.join('\n'));
      }
    }
  });

  test('explicit FTPS cancellation leaves the connection usable', () =>
    withClient({ secure: 'explicit', rejectUnauthorized: false }, async (client) => {
      await abortBigDownload(client);
      assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
    }));
});

describe('FtpClient over IPv6 (::1)', () => {
  let six: FerryFixture | undefined;
  let unavailable: string | false = false;

  before(async () => {
    try {
      six = await startFerry({ overrides: { host: '::1' } });
      writeFileSync(join(six.root, 'all-bytes.bin'), ALL_BYTES);
    } catch (error) {
      unavailable = `::1 is not available here: ${(error as Error).message}`;
    }
  });

  after(async () => {
    await six?.stop();
  });

  for (const dataMode of MODES) {
    test(`${dataMode}: EPSV/EPRT with |2|, byte-exact both ways`, async (t) => {
      if (unavailable || !six) return t.skip(unavailable || 'no server');
      const trace = recorder();
      const client = await FtpClient.connect({ host: '::1', port: six.port, user: USER, password: PASSWORD, dataMode, trace: trace.trace, timeoutMs: 10_000 });
      try {
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
        await client.upload(Readable.from([randomData()]), 'six-up.bin');
        assert.equal(sha256File(join(six.root, 'six-up.bin')), sha256(randomData()));
        assert.ok((await client.list()).some((e) => e.name === 'six-up.bin' && e.size === randomData().length));
      } finally {
        await client.close();
      }
      const context = trace.lines.join('\n');
      if (dataMode === 'active') assert.match(context, /^---> EPRT \|2\|::1\|\d+\|$/m, context);
      else assert.match(context, /^EPSV: server listens on port \d+ of ::1$/m, context);
      assert.match(context, /^data connection: .*::1:\d+ .*::1:\d+/m, context);
    });
  }
});
