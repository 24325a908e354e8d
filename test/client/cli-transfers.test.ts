/**
 * The `ferry` transfer commands as curl and lftp users expect them, run as the real
 * binary: get to stdout and put from stdin, several sources and wildcards for get, put
 * and rm over one connection, the local path in the summary, --json summaries,
 * --limit-rate, bars only on a terminal, Ctrl-C during a transfer (against an in-process
 * Ferry); and --retries against a scripted fake server that drops the connection
 * halfway through a transfer once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { fakeServer, type Handler, type Session } from '../helpers/fake-ftp-server.js';
import { findBinary, runProcess } from '../helpers/run-process.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { waitFor, withTimeout } from '../helpers/timing.js';
import { FERRY_BIN, ferryUrl, ok, runFerry, startFerry, type CliResult, type FerryFixture } from './support.js';

let ferry: FerryFixture;
let local: { dir: string; remove: () => void };
const env = { FERRY_PASSWORD: PASSWORD };

const RATE_SIZE = 4 * 1024 * 1024;
const SIGINT_SIZE = 8 * 1024 * 1024;

before(async () => {
  ferry = await startFerry();
  local = scratchDir('ferry-cli-transfers-');
  const remote = (path: string, data: Buffer | string) => {
    mkdirSync(join(ferry.root, path, '..'), { recursive: true });
    writeFileSync(join(ferry.root, path), data);
  };
  remote('all-bytes.bin', ALL_BYTES);
  remote('dl/one.txt', 'one\n');
  remote('dl/two.txt', 'two two\n');
  remote('dl/.hidden.txt', 'hidden\n');
  remote('dl/three.bin', ALL_BYTES);
  remote('dl/a1.log', 'a1');
  remote('dl/b2.log', 'b2');
  remote('dl/c3.log', 'c3');
  mkdirSync(join(ferry.root, 'dl', 'folder.txt'));
  remote('rate.bin', randomData(RATE_SIZE));
  remote('sigint.bin', randomData(SIGINT_SIZE));
});

after(async () => {
  await ferry?.stop();
  local?.remove();
});

const url = (path = ''): string => ferryUrl(ferry.port, path);

/** A fresh local folder for one test. */
function folder(name: string): string {
  const path = join(local.dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

function lines(text: Buffer | string): string[] {
  return text.toString().split('\n').filter(Boolean);
}

const BAR_OR_ESCAPE = /[\u2588\u2591\u001b]/;

describe('ferry get/put/rm: stdin and stdout, several sources, wildcards, summaries', () => {
  test('put of a directory says so and suggests mirror -R (exit 2), not "no such file"', async () => {
    const dir = folder('put-dir');
    writeFileSync(join(dir, 'inside.txt'), 'x');
    const result = await runFerry(['put', dir, url()], { env });
    assert.equal(result.code, 2, result.describe());
    assert.match(result.stderr, /is a directory \(to upload a tree, use ferry mirror -R\)/, result.describe());
    assert.doesNotMatch(result.stderr, /no such file/, result.describe());
  });

  test('get URL - writes the file to stdout and the summary to stderr; several URLs follow each other', async () => {
    const one = ok(await runFerry(['get', url('all-bytes.bin'), '-'], { env }));
    assert.equal(sha256(one.stdout), sha256(ALL_BYTES));
    assert.match(one.stderr, new RegExp(`^downloaded all-bytes\\.bin -> \\(stdout\\) \\(${ALL_BYTES.length} bytes, [\\d.]+ [kM]B/s\\)$`, 'm'), one.describe());
    const two = ok(await runFerry(['get', url('dl/one.txt'), url('dl/two.txt'), '-'], { env }));
    assert.equal(two.stdout.toString(), 'one\ntwo two\n');
    assert.equal(lines(two.stderr).filter((l) => l.startsWith('downloaded ')).length, 2, two.describe());
    const resume = await runFerry(['get', '-c', url('dl/one.txt'), '-'], { env });
    assert.equal(resume.code, 2, resume.describe());
  });

  test('put - URL/NAME uploads stdin; without a name it is a usage error', async () => {
    mkdirSync(join(ferry.root, 'stdin'), { recursive: true });
    const data = randomData(1024 * 1024 + 7);
    const put = ok(await runFerry(['put', '-', url('stdin/piped.bin')], { env, input: data }));
    assert.equal(sha256File(join(ferry.root, 'stdin', 'piped.bin')), sha256(data));
    assert.match(put.stdout.toString(), new RegExp(`^uploaded stdin/piped\\.bin \\(${data.length} bytes, `, 'm'), put.describe());
    const nameless = await runFerry(['put', '-', url('stdin/')], { env, input: data });
    assert.equal(nameless.code, 2, nameless.describe());
    assert.match(nameless.stderr, /stdin has no name/, nameless.describe());
  });

  test('get URL LOCAL names the local path it wrote in the summary', async () => {
    const cwd = folder('get-local');
    const result = ok(await runFerry(['get', url('dl/three.bin'), 'renamed.bin'], { env, cwd }));
    assert.equal(sha256File(join(cwd, 'renamed.bin')), sha256(ALL_BYTES));
    assert.match(result.stdout.toString(), new RegExp(`^downloaded dl/three\\.bin -> renamed\\.bin \\(${ALL_BYTES.length} bytes, [\\d.]+ [kM]B/s\\)$`, 'm'), result.describe());
    assert.doesNotMatch(result.stderr, BAR_OR_ESCAPE, 'no bars when stderr is not a terminal');
  });

  test('get URL1 URL2 DIR: both into DIR over one connection', async () => {
    const out = folder('get-several');
    const result = ok(await runFerry(['get', '-d', url('dl/one.txt'), url('dl/three.bin'), out], { env }));
    assert.equal(readFileSync(join(out, 'one.txt'), 'utf8'), 'one\n');
    assert.equal(sha256File(join(out, 'three.bin')), sha256(ALL_BYTES));
    assert.equal(lines(result.stderr).filter((l) => l === `---> USER ${USER}`).length, 1, result.describe());
    assert.equal(lines(result.stdout).filter((l) => l.startsWith('downloaded ')).length, 2, result.describe());
  });

  test('get with wildcards: files only, no dot files, *, ? and classes; no match is exit 4 naming the pattern', async () => {
    const out = join(local.dir, 'get-glob', 'new') + '/';
    const txt = ok(await runFerry(['get', url('dl/*.txt'), out], { env }));
    assert.deepEqual(readdirSync(out).sort(), ['one.txt', 'two.txt'], txt.describe());
    assert.equal(readFileSync(join(out, 'two.txt'), 'utf8'), 'two two\n');
    const logs = folder('get-glob-logs');
    // "?" starts a URL's query: in a URL it is written %3F.
    ok(await runFerry(['get', url('dl/[ab]%3F.log'), logs], { env }));
    assert.deepEqual(readdirSync(logs).sort(), ['a1.log', 'b2.log']);
    const none = await runFerry(['get', url('dl/*.none'), folder('get-glob-none')], { env });
    assert.equal(none.code, 4, none.describe());
    assert.match(none.stderr, /^ferry: no remote file matches dl\/\*\.none$/m, none.describe());
  });

  test('put several files and a wildcard the shell left alone into URL/; several files need a URL ending in /', async () => {
    mkdirSync(join(ferry.root, 'up'), { recursive: true });
    const src = folder('put-several');
    for (const [name, data] of Object.entries({ 'a.txt': 'a', 'b.txt': 'bb', 'c1.bin': ALL_BYTES, 'c2.bin': 'c2', 'd.txt': 'd' })) writeFileSync(join(src, name), data);
    const put = ok(await runFerry(['put', join(src, 'a.txt'), join(src, 'b.txt'), join(src, 'c*.bin'), url('up/')], { env }));
    assert.deepEqual(readdirSync(join(ferry.root, 'up')).sort(), ['a.txt', 'b.txt', 'c1.bin', 'c2.bin'], put.describe());
    assert.equal(sha256File(join(ferry.root, 'up', 'c1.bin')), sha256(ALL_BYTES));
    assert.equal(lines(put.stdout).filter((l) => l.startsWith('uploaded up/')).length, 4, put.describe());
    const noSlash = await runFerry(['put', join(src, 'a.txt'), join(src, 'b.txt'), url('up/x')], { env });
    assert.equal(noSlash.code, 2, noSlash.describe());
    assert.match(noSlash.stderr, /several files need a URL that ends in "\/"/);
    const globNoSlash = await runFerry(['put', join(src, 'c*.bin'), url('up/x')], { env });
    assert.equal(globNoSlash.code, 2, globNoSlash.describe());
    const none = await runFerry(['put', join(src, 'z*.none'), url('up/')], { env });
    assert.equal(none.code, 4, none.describe());
    assert.match(none.stderr, /no local file matches .*z\*\.none/, none.describe());
    assert.ok(!existsSync(join(ferry.root, 'up', 'x')));
  });

  test('rm URL1 URL2 and rm URL/dir/*.tmp; a missing one is exit 4 and the others are still removed', async () => {
    const dir = join(ferry.root, 'rmdir');
    mkdirSync(dir, { recursive: true });
    for (const name of ['x1', 'x2', 'a.tmp', 'b.tmp', 'keep.txt']) writeFileSync(join(dir, name), name);
    ok(await runFerry(['rm', url('rmdir/x1'), url('rmdir/x2')], { env }));
    assert.deepEqual(readdirSync(dir).sort(), ['a.tmp', 'b.tmp', 'keep.txt']);
    ok(await runFerry(['rm', url('rmdir/*.tmp')], { env }));
    assert.deepEqual(readdirSync(dir), ['keep.txt']);
    const again = await runFerry(['rm', url('rmdir/*.tmp')], { env });
    assert.equal(again.code, 4, again.describe());
    assert.match(again.stderr, /no remote file matches rmdir\/\*\.tmp/);
    const mixed = await runFerry(['rm', url('rmdir/missing'), url('rmdir/keep.txt')], { env });
    assert.equal(mixed.code, 4, mixed.describe());
    assert.deepEqual(readdirSync(dir), []);
  });

  test('--json: one object per file with direction, remote, local, bytes, seconds, status (ok, skipped, failed with error)', async () => {
    const out = folder('json');
    const first = await runFerry(['get', '--json', url('dl/one.txt'), url('dl/missing.txt'), url('dl/three.bin'), out], { env });
    assert.equal(first.code, 4, first.describe());
    const objects = lines(first.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(objects.length, 3, first.describe());
    assert.deepEqual(Object.keys(objects[0]!), ['direction', 'remote', 'local', 'bytes', 'seconds', 'status']);
    assert.deepEqual(
      objects.map(({ direction, remote, local: file, bytes, status }) => ({ direction, remote, local: file, bytes, status })),
      [
        { direction: 'download', remote: 'dl/one.txt', local: join(out, 'one.txt'), bytes: 4, status: 'ok' },
        { direction: 'download', remote: 'dl/missing.txt', local: join(out, 'missing.txt'), bytes: 0, status: 'failed' },
        { direction: 'download', remote: 'dl/three.bin', local: join(out, 'three.bin'), bytes: ALL_BYTES.length, status: 'ok' },
      ],
    );
    assert.match(String(objects[1]!.error), /550/);
    assert.ok(objects.every((o) => typeof o.seconds === 'number' && o.seconds >= 0));
    const skipped = ok(await runFerry(['get', '--json', '-c', url('dl/one.txt'), url('dl/three.bin'), out], { env }));
    assert.deepEqual(
      lines(skipped.stdout).map((line) => (JSON.parse(line) as { status: string }).status),
      ['skipped', 'skipped'],
    );
    const put = ok(await runFerry(['put', '--json', join(out, 'one.txt'), url('json-up.txt')], { env }));
    const [upload] = lines(put.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual({ ...upload, seconds: 0 }, { direction: 'upload', remote: 'json-up.txt', local: join(out, 'one.txt'), bytes: 4, seconds: 0, status: 'ok' });
  });

  test('--limit-rate: 4 MiB down at 1M and 2 MiB up at 1M take their time, unlimited is much faster; bytes intact', async () => {
    const out = folder('rate');
    const seconds = (result: CliResult) => (JSON.parse(lines(result.stdout)[0]!) as { seconds: number }).seconds;
    const limited = ok(await runFerry(['get', '--json', '--limit-rate', '1M', url('rate.bin'), join(out, 'limited.bin')], { env }));
    assert.equal(sha256File(join(out, 'limited.bin')), sha256(randomData(RATE_SIZE)));
    const unlimited = ok(await runFerry(['get', '--json', url('rate.bin'), join(out, 'unlimited.bin')], { env }));
    assert.equal(sha256File(join(out, 'unlimited.bin')), sha256(randomData(RATE_SIZE)));
    const up = join(out, 'up.bin');
    writeFileSync(up, randomData(RATE_SIZE).subarray(0, RATE_SIZE / 2));
    const upload = ok(await runFerry(['put', '--json', '--limit-rate', '1024K', up, url('rate-up.bin')], { env }));
    assert.equal(sha256File(join(ferry.root, 'rate-up.bin')), sha256File(up));
    // 4 MiB at 1 MiB/s is 4 s less a 1/8 s burst; 2 MiB is 2 s less the burst.
    assert.ok(seconds(limited) >= 3, `limited download: ${seconds(limited)} s`);
    assert.ok(seconds(upload) >= 1.5, `limited upload: ${seconds(upload)} s`);
    assert.ok(seconds(unlimited) < seconds(limited) / 2, `unlimited ${seconds(unlimited)} s vs limited ${seconds(limited)} s`);
    const bad = await runFerry(['get', '--limit-rate', 'fast', url('rate.bin'), join(out, 'bad.bin')], { env });
    assert.equal(bad.code, 2, bad.describe());
  });

  test('Ctrl-C during a download: ABOR, a message saying where it stopped, exit 130; -c finishes the file', async () => {
    const target = join(folder('sigint'), 'sigint.bin');
    let signalled = false;
    const result = await runFerry(['get', '-d', '--limit-rate', '256K', url('sigint.bin'), target], {
      env,
      onStart: (child) => {
        void waitFor(() => existsSync(target) && statSync(target).size >= 64 * 1024, 20_000).then((started) => {
          signalled = started && child.kill('SIGINT');
        });
      },
    });
    assert.ok(signalled, result.describe());
    assert.equal(result.code, 130, result.describe());
    assert.match(result.stderr, /^---> ABOR$/m, result.describe());
    assert.match(result.stderr, /^ferry: interrupted: downloading sigint\.bin at [\d.]+ [kM]B of 8\.4 MB; resume with -c$/m, result.describe());
    const partial = readFileSync(target);
    assert.ok(partial.length > 0 && partial.length < SIGINT_SIZE, `${partial.length} bytes`);
    assert.equal(sha256(partial), sha256(randomData(SIGINT_SIZE).subarray(0, partial.length)), 'what arrived is the start of the file');
    const resumed = ok(await runFerry(['get', '-c', '-d', url('sigint.bin'), target], { env }));
    assert.match(resumed.stderr, new RegExp(`^---> REST ${partial.length}$`, 'm'), resumed.describe());
    assert.equal(sha256File(target), sha256(randomData(SIGINT_SIZE)));
  });

  test('on a terminal: bars with sizes, rate and ETA, a total bar for several files, and the summary lines', { skip: findBinary('script') ? false : 'script (util-linux) is not installed' }, async () => {
    const out = folder('tty');
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = ['stty cols 200;', quote(process.execPath), quote(FERRY_BIN), 'get', '--limit-rate', '1M', quote(url('rate.bin')), quote(url('dl/one.txt')), quote(out)].join(' ');
    const result = await runProcess('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH, HOME: out, FERRY_PASSWORD: PASSWORD, LANG: 'C.UTF-8' }, timeoutMs: 30_000 });
    const screen = result.stdout.toString();
    const shown = `the terminal showed (its end):\n${screen.slice(-3000)}`;
    assert.equal(result.code, 0, shown);
    assert.equal(sha256File(join(out, 'rate.bin')), sha256(randomData(RATE_SIZE)));
    assert.match(screen, /\u2588/, 'a bar is drawn');
    assert.match(screen, /[\d.]+ [kM]B \/ 4\.2 MB \| [\d.]+ [kM]B\/s \| ETA \d+s \| rate\.bin/, shown);
    assert.match(screen, /files 2\/2 \| 4\.2 MB \/ 4\.2 MB \| total/, shown);
    assert.match(screen, /downloaded rate\.bin -> .*rate\.bin \(4194304 bytes/, shown);
  });
});

// ---------------------------------------------------------------------------------------
// --retries against a fake server
// ---------------------------------------------------------------------------------------

const FAKE_SIZE = 1024 * 1024 + 333;

/** Writes and half-closes; resolves once the bytes are handed to the kernel. */
function endData(data: import('node:net').Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => data.end(bytes, () => resolve()));
}

interface FileServerOptions {
  /** How many RETRs send only the first half and then drop both connections. */
  dropRetr?: number;
  /** How many STORs drop both connections once half the file has arrived. */
  dropStor?: number;
  /** How many RETRs and STORs are answered 450 before anything is sent (the local or remote file is left alone). */
  refuse?: number;
  handlers?: Record<string, Handler>;
}

/** A fake server with files in memory: SIZE, REST, RETR, STOR, LIST, and drops on request. */
async function fileServer(files: Map<string, Buffer>, options: FileServerOptions = {}) {
  const restAt = new Map<Session, number>();
  const takeRest = (s: Session) => {
    const offset = restAt.get(s) ?? 0;
    restAt.delete(s);
    return offset;
  };
  let dropRetr = options.dropRetr ?? 0;
  let dropStor = options.dropStor ?? 0;
  let refuse = options.refuse ?? 0;
  return fakeServer({
    handlers: {
      SIZE: (s, path) => (files.has(path) ? s.send(`213 ${files.get(path)!.length}`) : s.send('550 No such file.')),
      REST: (s, arg) => {
        restAt.set(s, Number(arg));
        s.send(`350 Restarting at ${arg}.`);
      },
      RETR: async (s, path) => {
        const offset = takeRest(s);
        const file = files.get(path);
        if (!file) return s.send('550 No such file.');
        if (refuse-- > 0) return s.send('450 File busy, try later.');
        const data = await s.data();
        s.send('150 Sending.');
        if (dropRetr-- > 0) {
          await endData(data, file.subarray(offset, offset + Math.floor(file.length / 2)));
          await withTimeout(once(data, 'close'), 5000, 'the client closing the data connection').catch(() => undefined);
          s.socket.destroy();
          return;
        }
        await endData(data, file.subarray(offset));
        s.send('226 Done.');
      },
      STOR: async (s, path) => {
        const offset = takeRest(s);
        if (refuse-- > 0) return s.send('450 File busy, try later.');
        const kept = (files.get(path) ?? Buffer.alloc(0)).subarray(0, offset);
        const data = await s.data();
        s.send('150 Send it.');
        const chunks: Buffer[] = [];
        let received = 0;
        const drop = dropStor-- > 0;
        await new Promise<void>((resolve) => {
          data.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            received += chunk.length;
            if (drop && received >= FAKE_SIZE / 2) {
              files.set(path, Buffer.concat([kept, ...chunks]));
              data.destroy();
              s.socket.destroy();
              resolve();
            }
          });
          data.on('end', () => resolve());
        });
        if (drop) return;
        files.set(path, Buffer.concat([kept, ...chunks]));
        s.send('226 Stored.');
      },
      ...options.handlers,
    },
  });
}

function fakeUrl(port: number, path: string): string {
  return `ftp://u@127.0.0.1:${port}/${path}`;
}

const fakeEnv = { FERRY_PASSWORD: 'p' };
const quickRetry = ['--retry-delay', '0.05'];

describe('ferry get/put --retries against a server that drops the connection once', () => {
  test('a download cut off halfway: without --retries exit 5; with them a new login resumes with REST at what arrived', async () => {
    const data = randomData(FAKE_SIZE);
    const out = folder('retry-get');
    const once0 = await fileServer(new Map([['file.bin', data]]), { dropRetr: 1 });
    const plain = await runFerry(['get', fakeUrl(once0.port, 'file.bin'), join(out, 'plain.bin')], { env: fakeEnv });
    assert.equal(plain.code, 5, plain.describe());
    assert.doesNotMatch(plain.stderr, /retry/, plain.describe());

    const fake = await fileServer(new Map([['file.bin', data]]), { dropRetr: 1 });
    const target = join(out, 'file.bin');
    const result = ok(await runFerry(['get', '--retries', '2', ...quickRetry, fakeUrl(fake.port, 'file.bin'), target], { env: fakeEnv }));
    assert.equal(sha256File(target), sha256(data));
    assert.match(result.stderr, /^ferry: retry 1\/2 after the server closed the control connection \(in 0\.05 s\)$/m, result.describe());
    assert.equal(fake.sessions.length, 2);
    const rest = fake.sessions[1]!.commands.find((c) => c.startsWith('REST '));
    assert.ok(rest, fake.sessions[1]!.commands.join('\n'));
    const offset = Number(rest.slice(5));
    assert.ok(offset > 0 && offset <= Math.floor(FAKE_SIZE / 2), rest);
  });

  test('to stdout, a retry resumes right after the bytes already written', async () => {
    const data = randomData(FAKE_SIZE);
    const fake = await fileServer(new Map([['file.bin', data]]), { dropRetr: 1 });
    const result = ok(await runFerry(['get', '--retries', '1', ...quickRetry, fakeUrl(fake.port, 'file.bin'), '-'], { env: fakeEnv }));
    assert.equal(result.stdout.length, data.length, result.describe());
    assert.equal(sha256(result.stdout), sha256(data));
    assert.ok(fake.sessions[1]!.commands.some((c) => /^REST [1-9]\d*$/.test(c)), fake.sessions[1]!.commands.join('\n'));
  });

  test('an upload cut off halfway resumes at the server copy\'s SIZE', async () => {
    const data = randomData(FAKE_SIZE);
    const source = join(folder('retry-put'), 'up.bin');
    writeFileSync(source, data);
    const files = new Map<string, Buffer>();
    const fake = await fileServer(files, { dropStor: 1 });
    const result = ok(await runFerry(['put', '--retries', '1', ...quickRetry, source, fakeUrl(fake.port, 'up.bin')], { env: fakeEnv }));
    assert.equal(sha256(files.get('up.bin')!), sha256(data), result.describe());
    assert.match(result.stderr, /^ferry: retry 1\/1 after /m, result.describe());
    const second = fake.sessions[1]!.commands;
    const size = second.indexOf('SIZE up.bin');
    const rest = second.find((c) => c.startsWith('REST '));
    assert.ok(size !== -1 && rest && Number(rest.slice(5)) >= FAKE_SIZE / 2, second.join('\n'));
  });

  test('a retry after a try that failed before the transfer began starts at 0: an old local file is not taken for downloaded bytes', async () => {
    const data = randomData(FAKE_SIZE);
    const out = folder('retry-stale-get');
    // A smaller old file would get the new file's tail appended; one of the same size would be kept as it is.
    for (const stale of [randomData(1000), randomData(FAKE_SIZE)]) {
      const target = join(out, `file-${stale.length}.bin`);
      writeFileSync(target, stale);
      const fake = await fileServer(new Map([['file.bin', data]]), { refuse: 1 });
      const result = ok(await runFerry(['get', '--retries', '1', ...quickRetry, fakeUrl(fake.port, 'file.bin'), target], { env: fakeEnv }));
      assert.equal(sha256File(target), sha256(data), result.describe());
      assert.match(result.stderr, /^ferry: retry 1\/1 after /m, result.describe());
      assert.ok(!fake.sessions[1]!.commands.some((c) => c.startsWith('REST ')), fake.sessions[1]!.commands.join('\n'));
    }
  });

  test('a retry after a STOR refused before any byte moved uploads the whole file over a stale remote one', async () => {
    const data = randomData(FAKE_SIZE);
    const source = join(folder('retry-stale-put'), 'up.bin');
    writeFileSync(source, data);
    for (const stale of [randomData(1000), randomData(FAKE_SIZE)]) {
      const files = new Map([['up.bin', stale]]);
      const fake = await fileServer(files, { refuse: 1 });
      const result = ok(await runFerry(['put', '--retries', '1', ...quickRetry, source, fakeUrl(fake.port, 'up.bin')], { env: fakeEnv }));
      assert.equal(sha256(files.get('up.bin')!), sha256(data), result.describe());
      assert.ok(!fake.sessions[1]!.commands.some((c) => c.startsWith('REST ')), fake.sessions[1]!.commands.join('\n'));
    }
  });

  test('a server whose FEAT does not list REST still gets a resume on retry (REST is tried, as the library does), to a file and to stdout', async () => {
    const data = randomData(FAKE_SIZE);
    const noRestFeat: Handler = (s) => s.send('211-Features:\r\n SIZE\r\n211 End');
    const target = join(folder('retry-no-feat-rest'), 'file.bin');
    for (const local of [target, '-']) {
      const fake = await fileServer(new Map([['file.bin', data]]), { dropRetr: 1, handlers: { FEAT: noRestFeat } });
      const result = ok(await runFerry(['get', '--retries', '1', ...quickRetry, fakeUrl(fake.port, 'file.bin'), local], { env: fakeEnv }));
      assert.equal(local === '-' ? sha256(result.stdout) : sha256File(target), sha256(data), result.describe());
      assert.ok(fake.sessions[1]!.commands.some((c) => /^REST [1-9]\d*$/.test(c)), fake.sessions[1]!.commands.join('\n'));
    }
  });

  test('Ctrl-C while planning (a listing the server never answers) says "interrupted" once, exit 130', async () => {
    const fake = await fileServer(new Map(), { handlers: { LIST: () => undefined } });
    let signalled = false;
    const result = await runFerry(['get', fakeUrl(fake.port, '*.txt'), folder('sigint-plan') + '/'], {
      env: fakeEnv,
      onStart: (child) => {
        void waitFor(() => fake.sessions[0]?.commands.some((c) => c.startsWith('LIST')) ?? false, 10_000).then((started) => {
          signalled = started && child.kill('SIGINT');
        });
      },
    });
    assert.ok(signalled, result.describe());
    assert.equal(result.code, 130, result.describe());
    assert.equal(lines(result.stderr).filter((l) => /interrupted/.test(l)).length, 1, result.describe());
  });

  test('a server without SIZE: get works, and a retry still resumes at what arrived', async () => {
    const data = randomData(FAKE_SIZE);
    const target = join(folder('retry-no-size'), 'file.bin');
    const fake = await fileServer(new Map([['file.bin', data]]), { dropRetr: 1, handlers: { SIZE: (s) => s.send('502 SIZE not implemented.') } });
    const result = ok(await runFerry(['get', '--retries', '1', ...quickRetry, fakeUrl(fake.port, 'file.bin'), target], { env: fakeEnv }));
    assert.equal(sha256File(target), sha256(data), result.describe());
    assert.ok(fake.sessions[1]!.commands.some((c) => /^REST [1-9]\d*$/.test(c)), fake.sessions[1]!.commands.join('\n'));
  });

  test('421 is retried; 530 and 550 are not', async () => {
    const data = randomData(FAKE_SIZE);
    let logins = 0;
    const busy = await fileServer(new Map([['file.bin', data]]), {
      handlers: {
        USER: (s) => {
          if (logins++ > 0) return s.send('331 Password please.');
          s.send('421 Too many users, try later.');
          s.socket.end();
        },
      },
    });
    const out = folder('retry-codes');
    ok(await runFerry(['get', '--retries', '3', ...quickRetry, fakeUrl(busy.port, 'file.bin'), join(out, 'busy.bin')], { env: fakeEnv }));
    assert.equal(sha256File(join(out, 'busy.bin')), sha256(data));
    assert.equal(busy.sessions.length, 2);

    const refused = await fileServer(new Map([['file.bin', data]]), { handlers: { PASS: (s) => s.send('530 Login incorrect.') } });
    const login = await runFerry(['get', '--retries', '3', ...quickRetry, fakeUrl(refused.port, 'file.bin'), join(out, 'login.bin')], { env: fakeEnv });
    assert.equal(login.code, 3, login.describe());
    assert.equal(refused.sessions.length, 1);

    const missing = await fileServer(new Map());
    const notFound = await runFerry(['get', '--retries', '3', ...quickRetry, fakeUrl(missing.port, 'file.bin'), join(out, 'missing.bin')], { env: fakeEnv });
    assert.equal(notFound.code, 4, notFound.describe());
    assert.equal(missing.sessions.length, 1);
    assert.doesNotMatch(notFound.stderr + login.stderr, /retry/);
  });

  test('a wildcard get ignores hostile names in the listing ("../x", "a/b")', async () => {
    const line = (name: string, size: number) => `-rw-r--r--    1 1000     1000 ${String(size).padStart(12)} Jan 02  2020 ${name}`;
    const listing = [line('../escape.txt', 3), line('a/b.txt', 3), line('ok.txt', ALL_BYTES.length)];
    const fake = await fileServer(new Map([['ok.txt', ALL_BYTES], ['../escape.txt', Buffer.from('bad')], ['a/b.txt', Buffer.from('bad')]]), {
      handlers: {
        LIST: async (s) => {
          const data = await s.data();
          await endData(data, listing.map((l) => `${l}\r\n`).join(''));
          s.send('150 Here it comes.');
          s.send('226 Done.');
        },
      },
    });
    const base = folder('hostile');
    const out = join(base, 'out');
    ok(await runFerry(['get', fakeUrl(fake.port, '*.txt'), out + '/'], { env: fakeEnv }));
    assert.deepEqual(readdirSync(out), ['ok.txt']);
    assert.deepEqual(readdirSync(base), ['out'], 'nothing written next to the folder');
    assert.equal(sha256File(join(out, 'ok.txt')), sha256(ALL_BYTES));
  });
});
