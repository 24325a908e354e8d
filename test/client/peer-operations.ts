/**
 * The tests every third-party server gets (vsftpd, ProFTPD, Pure-FTPd, pyftpdlib), so
 * that each server's test file holds only its own setup and quirks. Registered inside
 * the caller's describe():
 * - `usePeer`: starts the server before the tests (with the client tests' files) and
 *   stops it after them, with a local scratch folder;
 * - `peerClientTests`: the library in passive and in active mode: listing, byte-exact
 *   transfers (by SHA-256), resume with REST, append, mkdir/rename/remove/removeDir,
 *   errors mapped to kind and code, cancellation, explicit FTPS with PROT P; then login
 *   failures and certificate verification;
 * - `peerCliTests`: the `ferry` binary: ls -l, get, put, get -c, --tls, exit codes,
 *   mirror down and mirror -R up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FtpClient, type FtpClientOptions } from '../../src/client/client.js';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { scratchDir, type ScratchDir } from '../helpers/scratch-dir.js';
import { abortBigDownload, clientSessions, downloadToBuffer, hashTree, memorySink, randomData, recorder, rejectsWith, runFerry, writeServerFiles, type ClientTarget } from './support.js';

/** A running server as these tests need it. */
export interface PeerServer extends ClientTarget {
  /** Host folder that is "/" for the user. */
  root: string;
  /** Its certificate (PEM), when it has FTPS. */
  certPem?: string;
  /** Writes a file under `root` (folders created) as the server's own files would be. */
  writeFile(relative: string, data: Buffer | string): string;
  /** Creates a folder (and its parents) under `root`. */
  mkdir(relative: string): string;
  stop(): Promise<void>;
}

export interface Peer {
  server(): PeerServer;
  /** The local scratch folder. */
  local(): string;
  options(extra?: Partial<FtpClientOptions>): FtpClientOptions;
  withClient<R>(extra: Partial<FtpClientOptions>, work: (client: FtpClient) => Promise<R>): Promise<R>;
}

/** Starts the server (and writes writeServerFiles' files to it) before the suite's tests; stops it after them. */
export function usePeer(start: () => Promise<PeerServer>): Peer {
  let server: PeerServer | undefined;
  let scratch: ScratchDir | undefined;
  const current = (): PeerServer => {
    if (!server) throw new Error('usePeer: the server is not running (used outside a test?)');
    return server;
  };
  before(async () => {
    server = await start();
    scratch = scratchDir();
    writeServerFiles((name, data) => current().writeFile(name, data));
  });
  after(async () => {
    await server?.stop();
    scratch?.remove();
  });
  return { server: current, local: () => scratch!.dir, ...clientSessions(current) };
}

export interface PeerClientOptions {
  /**
   * The server refuses a protected data connection whose TLS session is not the control
   * connection's (vsftpd's require_ssl_reuse, ProFTPD's mod_tls default): every data
   * connection must have resumed it.
   */
  requiresTlsReuse: boolean;
}

/** The library tests, in passive and in active mode, and login and certificate failures. */
export function peerClientTests(peer: Peer, options: PeerClientOptions): void {
  const { withClient } = peer;
  const path = (...parts: string[]) => join(peer.server().root, ...parts);

  for (const dataMode of ['passive', 'active'] as const) {
    describe(`${dataMode} mode`, () => {
      const dir = `peer-${dataMode}`;
      before(() => peer.server().mkdir(dir));

      test('list: names (spaces, UTF-8), sizes, types, dates', () =>
        withClient({ dataMode }, async (client) => {
          const server = peer.server();
          server.writeFile(`${dir}/listed/five.txt`, '12345');
          server.writeFile(`${dir}/listed/name with spaces.txt`, 'x'.repeat(100));
          server.writeFile(`${dir}/listed/中文.txt`, ALL_BYTES);
          server.mkdir(`${dir}/listed/sub`);
          const old = server.writeFile(`${dir}/listed/old.txt`, 'old');
          utimesSync(old, new Date(Date.UTC(2019, 2, 3, 4, 5, 6)), new Date(Date.UTC(2019, 2, 3, 4, 5, 6)));
          const entries = (await client.list(`${dir}/listed`)).sort((a, b) => a.name.localeCompare(b.name));
          assert.deepEqual(
            entries.map((e) => [e.name, e.type, e.type === 'directory' ? null : e.size]),
            [
              ['five.txt', 'file', 5],
              ['name with spaces.txt', 'file', 100],
              ['old.txt', 'file', 3],
              ['sub', 'directory', null],
              ['中文.txt', 'file', ALL_BYTES.length],
            ],
            entries.map((e) => e.raw).join('\n'),
          );
          // A LIST line shows an old file's year, not its time: exact to the day either way.
          assert.equal(entries.find((e) => e.name === 'old.txt')!.modifiedAt?.toISOString().slice(0, 10), '2019-03-03');
          const top = await client.list();
          assert.ok(top.some((e) => e.name === 'random.bin' && e.type === 'file' && e.size === randomData().length));
        }));

      test('byte-exact downloads and uploads (every byte value, a few MiB of random data)', () =>
        withClient({ dataMode }, async (client) => {
          assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
          const target = join(peer.local(), `random-${dataMode}.bin`);
          await client.download('/random.bin', target);
          assert.equal(sha256File(target), sha256(randomData()));
          await client.upload(target, `${dir}/random-up.bin`);
          assert.equal(sha256File(path(dir, 'random-up.bin')), sha256(randomData()));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/all-bytes-up.bin`);
          assert.equal(sha256File(path(dir, 'all-bytes-up.bin')), sha256(ALL_BYTES));
          assert.equal(await client.size(`${dir}/all-bytes-up.bin`), ALL_BYTES.length);
          const modified = await client.lastModified(`${dir}/all-bytes-up.bin`);
          assert.ok(Math.abs(modified.getTime() - Date.now()) < 120_000, `MDTM is UTC: ${modified.toISOString()}`);
        }));

      test('resume: download and upload with startAt (REST); append (APPE)', () =>
        withClient({ dataMode }, async (client) => {
          const data = randomData();
          const partial = join(peer.local(), `partial-${dataMode}.bin`);
          writeFileSync(partial, data.subarray(0, 1_234_567));
          const events: number[] = [];
          await client.download('random.bin', partial, { startAt: 1_234_567, onProgress: (p) => events.push(p.bytes) });
          assert.equal(sha256File(partial), sha256(data));
          assert.equal(events.at(-1), data.length);
          peer.server().writeFile(`${dir}/resume-up.bin`, data.subarray(0, 999_999));
          const source = join(peer.local(), `source-${dataMode}.bin`);
          writeFileSync(source, data);
          await client.upload(source, `${dir}/resume-up.bin`, { startAt: 999_999 });
          assert.equal(sha256File(path(dir, 'resume-up.bin')), sha256(data));
          peer.server().writeFile(`${dir}/log.txt`, 'one\n');
          await client.append(Readable.from([Buffer.from('two\n')]), `${dir}/log.txt`);
          assert.equal(readFileSync(path(dir, 'log.txt'), 'utf8'), 'one\ntwo\n');
        }));

      test('mkdir (recursive), rename, remove, removeDir (recursive); failures are kind not-found, 550', () =>
        withClient({ dataMode }, async (client) => {
          await client.mkdir(`${dir}/made`);
          await client.mkdir(`${dir}/deep/a/b`, { recursive: true });
          await client.mkdir(`${dir}/deep/a/b`, { recursive: true });
          assert.ok(existsSync(path(dir, 'deep/a/b')));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/deep/a/b/file.bin`);
          await client.upload(Readable.from([Buffer.from('top')]), `${dir}/deep/top.txt`);
          await client.rename(`${dir}/deep/top.txt`, `${dir}/deep/renamed.txt`);
          assert.equal(readFileSync(path(dir, 'deep/renamed.txt'), 'utf8'), 'top');
          await client.remove(`${dir}/deep/renamed.txt`);
          assert.ok(!existsSync(path(dir, 'deep/renamed.txt')));
          await rejectsWith(client.removeDir(`${dir}/deep`), 'not-found', 550);
          await client.removeDir(`${dir}/deep`, { recursive: true });
          assert.ok(!existsSync(path(dir, 'deep')));
          await client.removeDir(`${dir}/made`);
          assert.ok(!existsSync(path(dir, 'made')));
          await rejectsWith(client.cd('/no-such-dir'), 'not-found', 550);
          await rejectsWith(client.size('no-such-file'), 'not-found', 550);
          await rejectsWith(client.download('no-such-file', memorySink().sink), 'not-found', 550);
          await rejectsWith(client.remove('no-such-file'), 'not-found', 550);
          await rejectsWith(client.rename('no-such-file', 'other'), 'not-found', 550);
          assert.equal(await client.pwd(), '/');
        }));

      test('cancelling a large download or upload (ABOR) leaves the connection usable', () =>
        withClient({ dataMode }, async (client) => {
          await abortBigDownload(client);
          assert.equal(await client.pwd(), '/');
          assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
          const controller = new AbortController();
          let sent = 0;
          // Endless zeros: only the abort (after 1 MiB) ends this upload.
          const endless = new Readable({
            read() {
              if (sent >= 1024 * 1024) controller.abort();
              else this.push(Buffer.alloc(64 * 1024));
              sent += 64 * 1024;
            },
          });
          await rejectsWith(client.upload(endless, `${dir}/cancelled.bin`, { signal: controller.signal }), 'aborted');
          assert.equal(await client.pwd(), '/');
          assert.equal(await client.size('all-bytes.bin'), ALL_BYTES.length);
        }));

      test(`explicit FTPS (PROT P): transfers and a listing${options.requiresTlsReuse ? '; every data connection resumes the control TLS session' : ''}`, async () => {
        const trace = recorder();
        await withClient({ dataMode, secure: 'explicit', rejectUnauthorized: false, trace: trace.trace }, async (client) => {
          assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/tls-up.bin`);
          assert.equal(sha256File(path(dir, 'tls-up.bin')), sha256(ALL_BYTES));
          assert.ok((await client.list(dir)).some((e) => e.name === 'tls-up.bin' && e.size === ALL_BYTES.length));
        });
        const context = trace.lines.join('\n');
        assert.ok(trace.lines.includes('---> AUTH TLS') && trace.lines.some((l) => l.startsWith('234')), context);
        const prot = trace.lines.indexOf('---> PROT P');
        assert.ok(prot !== -1 && trace.lines[prot + 1]?.startsWith('200'), context);
        const dataTls = trace.lines.filter((l) => l.startsWith('data connection TLS:'));
        assert.equal(dataTls.length, 3, context);
        if (options.requiresTlsReuse) for (const line of dataTls) assert.match(line, /session resumed from the control connection/, context);
        assert.ok(!trace.lines.some((l) => /^(425|426|435|522|534) /.test(l)), `no data connection was refused: ${context}`);
      });
    });
  }

  test('a bad password is kind login (530), and the password is never traced', async () => {
    const trace = recorder();
    await withClient({ trace: trace.trace }, async () => undefined);
    const { user, password } = peer.server();
    assert.ok(trace.lines.includes(`---> USER ${user}`) && trace.lines.includes('---> PASS XXXX'), trace.lines.join('\n'));
    assert.ok(trace.lines.some((l) => l.startsWith('230')), trace.lines.join('\n'));
    assert.ok(!trace.lines.some((l) => l.includes(password)));
    await rejectsWith(FtpClient.connect(peer.options({ password: 'wrong' })), 'login', 530);
  });

  test('explicit FTPS with certificate verification: the self-signed certificate fails (kind tls), as ca it verifies', async () => {
    await rejectsWith(FtpClient.connect(peer.options({ secure: 'explicit' })), 'tls');
    await withClient({ secure: 'explicit', ca: peer.server().certPem }, async (client) => {
      assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
    });
  });
}

/** The `ferry` binary against the server. */
export function peerCliTests(peer: Peer): void {
  describe('the ferry binary', () => {
    const env = () => ({ FERRY_PASSWORD: peer.server().password });
    const url = (path: string) => `ftp://${peer.server().user}@127.0.0.1:${peer.server().port}/${path}`;
    const local = (...parts: string[]) => join(peer.local(), ...parts);

    // Each run starts a Node process (about a second): a few runs that reach every kind of
    // exchange (the library tests above cover the combinations of modes and commands).
    test('ls -l; get in passive mode, put in active mode', async () => {
      const server = peer.server();
      server.writeFile('cli/all-bytes.bin', ALL_BYTES);
      server.writeFile('cli/random.bin', randomData());
      const long = await runFerry(['ls', '-l', url('cli')], { env: env() });
      assert.equal(long.code, 0, long.describe());
      assert.match(long.stdout.toString(), new RegExp(`^- +${randomData().length} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d random\\.bin$`, 'm'), long.describe());
      assert.match(long.stdout.toString(), new RegExp(`^- +${ALL_BYTES.length} .* all-bytes\\.bin$`, 'm'), long.describe());
      const out = local('cli-get');
      mkdirSync(out, { recursive: true });
      const get = await runFerry(['get', '--passive', url('cli/random.bin'), out], { env: env() });
      assert.equal(get.code, 0, get.describe());
      assert.equal(sha256File(join(out, 'random.bin')), sha256(randomData()));
      const source = local('put.bin');
      writeFileSync(source, ALL_BYTES);
      const put = await runFerry(['put', '--active', source, url('cli/')], { env: env() });
      assert.equal(put.code, 0, put.describe());
      assert.equal(sha256File(join(server.root, 'cli', 'put.bin')), sha256(ALL_BYTES));
    });

    test('get -c resumes (REST); get --tls -k; a missing file is exit 4; a bad password exit 3', async () => {
      peer.server().writeFile('cli2/random.bin', randomData());
      const partial = local('cli-partial.bin');
      writeFileSync(partial, randomData().subarray(0, 2_000_000));
      const tlsOut = local('cli-tls.bin');
      // Independent runs side by side: a server may delay its answer to a bad password for seconds.
      const [resume, tls, missing, badPassword] = await Promise.all([
        runFerry(['get', '-c', '-d', url('cli2/random.bin'), partial], { env: env() }),
        runFerry(['get', '--tls', '-k', '-d', url('cli2/random.bin'), tlsOut], { env: env() }),
        runFerry(['get', url('cli2/nope.bin'), local('nope.bin')], { env: env() }),
        runFerry(['ls', url('')], { env: { FERRY_PASSWORD: 'wrong' } }),
      ]);
      assert.equal(resume.code, 0, resume.describe());
      assert.match(resume.stderr, /^---> REST 2000000$/m, resume.describe());
      assert.equal(sha256File(partial), sha256(randomData()));
      assert.equal(tls.code, 0, tls.describe());
      assert.equal(sha256File(tlsOut), sha256(randomData()));
      assert.match(tls.stderr, /^---> PROT P$/m, tls.describe());
      assert.match(tls.stderr, /^data connection TLS: /m, tls.describe());
      assert.equal(missing.code, 4, missing.describe());
      assert.equal(badPassword.code, 3, badPassword.describe());
    });

    test('mirror down, then mirror -R up (active mode): the trees are equal by hashes, empty folders included', async () => {
      const server = peer.server();
      server.writeFile('tree/a.txt', 'a\n');
      server.writeFile('tree/name with spaces.txt', 'spaces\n');
      server.writeFile('tree/sub/random.bin', randomData());
      server.writeFile('tree/sub/deeper/all-bytes.bin', ALL_BYTES);
      server.writeFile('tree/sub/deeper/中文.txt', '中文\n');
      server.writeFile('tree/folder with spaces/文件夹/x.txt', 'x\n');
      server.mkdir('tree/empty');
      const down = local('mirror-down');
      const mirrored = await runFerry(['mirror', url('tree'), down], { env: env() });
      assert.equal(mirrored.code, 0, mirrored.describe());
      assert.deepEqual(hashTree(down), hashTree(join(server.root, 'tree')), mirrored.describe());
      const up = await runFerry(['mirror', '-R', '--active', url('tree-up'), down], { env: env() });
      assert.equal(up.code, 0, up.describe());
      assert.deepEqual(hashTree(join(server.root, 'tree-up')), hashTree(down), up.describe());
    });
  });
}
