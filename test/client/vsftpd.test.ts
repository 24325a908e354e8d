/**
 * The client library and the `ferry` binary against a real vsftpd 3.0.3 (skipped where
 * /usr/sbin/vsftpd is missing): login, LIST parsing (vsftpd has no MLSD), byte-exact
 * transfers in passive and active mode, mkdir/rename/delete, resume, append,
 * cancellation, and explicit FTPS with require_ssl_reuse=YES (vsftpd refuses a data
 * connection whose TLS session is not the control connection's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FtpClient } from '../../src/client/client.js';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { startVsftpd, vsftpdSkipReason, type VsftpdInstance } from '../helpers/vsftpd.js';
import { abortBigDownload, clientSessions, downloadToBuffer, memorySink, randomData, recorder, rejectsWith, runFerry, writeServerFiles } from './support.js';

const skip = vsftpdSkipReason({ ssl: true });
const MODES = ['passive', 'active'] as const;

let vsftpd: VsftpdInstance;
let local: { dir: string; remove: () => void };
const { options, withClient } = clientSessions(() => vsftpd);

describe('FtpClient and ferry against vsftpd', { skip }, () => {
  before(async () => {
    vsftpd = await startVsftpd({ ssl: true });
    local = scratchDir();
    writeServerFiles((name, data) => vsftpd.writeFile(name, data));
  });

  after(async () => {
    await vsftpd?.stop();
    local?.remove();
  });

  test('login, FEAT without MLST, pwd, cd; a bad password is kind login (530)', async () => {
    const trace = recorder();
    await withClient({ trace: trace.trace }, async (client) => {
      assert.ok(!client.features.has('MLST'), 'vsftpd has no MLST');
      assert.ok(client.features.has('EPSV') && client.features.has('REST') && client.features.has('AUTH'));
      assert.equal(await client.pwd(), '/');
      vsftpd.mkdir('somewhere');
      await client.cd('somewhere');
      assert.equal(await client.pwd(), '/somewhere');
      await rejectsWith(client.cd('/no-such-dir'), 'not-found', 550);
    });
    assert.ok(trace.lines.includes(`---> USER ${vsftpd.user}`) && trace.lines.includes('---> PASS XXXX'));
    assert.ok(trace.lines.includes('230 Login successful.'));
    assert.ok(!trace.lines.some((l) => l.includes(vsftpd.password)));
    await rejectsWith(FtpClient.connect(options({ password: 'wrong' })), 'login', 530);
  });

  for (const dataMode of MODES) {
    describe(`${dataMode} mode`, () => {
      const dir = `vs-${dataMode}`;
      before(() => vsftpd.mkdir(dir));

      test('list parses vsftpd LIST lines: names, sizes, types, symlinks', () =>
        withClient({ dataMode }, async (client) => {
          vsftpd.writeFile(`${dir}/listed/five.txt`, '12345');
          vsftpd.writeFile(`${dir}/listed/name with spaces.txt`, 'x'.repeat(100));
          vsftpd.writeFile(`${dir}/listed/中文.txt`, ALL_BYTES);
          vsftpd.mkdir(`${dir}/listed/sub`);
          const old = vsftpd.writeFile(`${dir}/listed/old.txt`, 'old');
          utimesSync(old, new Date(Date.UTC(2019, 2, 3, 4, 5, 6)), new Date(Date.UTC(2019, 2, 3, 4, 5, 6)));
          const link = join(vsftpd.root, dir, 'listed', 'link');
          if (!existsSync(link)) symlinkSync('five.txt', link);
          const entries = (await client.list(`${dir}/listed`)).sort((a, b) => a.name.localeCompare(b.name));
          assert.deepEqual(
            entries.map((e) => [e.name, e.type, e.type === 'directory' ? null : e.size]),
            [
              ['five.txt', 'file', 5],
              ['link', 'symlink', 8],
              ['name with spaces.txt', 'file', 100],
              ['old.txt', 'file', 3],
              ['sub', 'directory', null],
              ['中文.txt', 'file', ALL_BYTES.length],
            ],
            entries.map((e) => e.raw).join('\n'),
          );
          assert.equal(entries.find((e) => e.name === 'link')!.target, 'five.txt');
          // Old files show the year, not the time: the date is exact to the day.
          assert.equal(entries.find((e) => e.name === 'old.txt')!.modifiedAt?.toISOString().slice(0, 10), '2019-03-03');
          const top = await client.list();
          assert.ok(top.some((e) => e.name === 'random.bin' && e.type === 'file' && e.size === randomData().length));
        }));

      test('byte-exact downloads and uploads (every byte value, a few MiB of random data)', () =>
        withClient({ dataMode }, async (client) => {
          assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
          const target = join(local.dir, `vs-random-${dataMode}.bin`);
          await client.download('/random.bin', target);
          assert.equal(sha256File(target), sha256(randomData()));
          await client.upload(target, `${dir}/random-up.bin`);
          assert.equal(sha256File(join(vsftpd.root, dir, 'random-up.bin')), sha256(randomData()));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/all-bytes-up.bin`);
          assert.equal(sha256File(join(vsftpd.root, dir, 'all-bytes-up.bin')), sha256(ALL_BYTES));
          assert.equal(await client.size(`${dir}/all-bytes-up.bin`), ALL_BYTES.length);
          const modified = await client.lastModified(`${dir}/all-bytes-up.bin`);
          assert.ok(Math.abs(modified.getTime() - Date.now()) < 120_000, `MDTM is UTC: ${modified.toISOString()}`);
        }));

      test('resume: download and upload with startAt; append', () =>
        withClient({ dataMode }, async (client) => {
          const data = randomData();
          const partial = join(local.dir, `vs-partial-${dataMode}.bin`);
          writeFileSync(partial, data.subarray(0, 1_234_567));
          const events: number[] = [];
          await client.download('random.bin', partial, { startAt: 1_234_567, onProgress: (p) => events.push(p.bytes) });
          assert.equal(sha256File(partial), sha256(data));
          assert.equal(events.at(-1), data.length);
          vsftpd.writeFile(`${dir}/resume-up.bin`, data.subarray(0, 999_999));
          const source = join(local.dir, `vs-source-${dataMode}.bin`);
          writeFileSync(source, data);
          await client.upload(source, `${dir}/resume-up.bin`, { startAt: 999_999 });
          assert.equal(sha256File(join(vsftpd.root, dir, 'resume-up.bin')), sha256(data));
          vsftpd.writeFile(`${dir}/log.txt`, 'one\n');
          await client.append(Readable.from([Buffer.from('two\n')]), `${dir}/log.txt`);
          assert.equal(readFileSync(join(vsftpd.root, dir, 'log.txt'), 'utf8'), 'one\ntwo\n');
        }));

      test('mkdir (recursive), rename, remove, removeDir (recursive)', () =>
        withClient({ dataMode }, async (client) => {
          await client.mkdir(`${dir}/made`);
          await client.mkdir(`${dir}/deep/a/b`, { recursive: true });
          await client.mkdir(`${dir}/deep/a/b`, { recursive: true });
          assert.ok(existsSync(join(vsftpd.root, dir, 'deep/a/b')));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/deep/a/b/file.bin`);
          await client.upload(Readable.from([Buffer.from('top')]), `${dir}/deep/top.txt`);
          await client.rename(`${dir}/deep/top.txt`, `${dir}/deep/renamed.txt`);
          assert.equal(readFileSync(join(vsftpd.root, dir, 'deep/renamed.txt'), 'utf8'), 'top');
          await client.remove(`${dir}/deep/renamed.txt`);
          assert.ok(!existsSync(join(vsftpd.root, dir, 'deep/renamed.txt')));
          await rejectsWith(client.removeDir(`${dir}/deep`), 'not-found', 550);
          await client.removeDir(`${dir}/deep`, { recursive: true });
          assert.ok(!existsSync(join(vsftpd.root, dir, 'deep')));
          await client.removeDir(`${dir}/made`);
          await rejectsWith(client.size('no-such-file'), 'not-found', 550);
          await rejectsWith(client.download('no-such-file', memorySink().sink), 'not-found', 550);
          await rejectsWith(client.remove('no-such-file'), 'not-found', 550);
          assert.equal(await client.pwd(), '/');
        }));

      test('cancelling a large download leaves the connection usable', () =>
        withClient({ dataMode }, async (client) => {
          await abortBigDownload(client);
          assert.equal(await client.pwd(), '/');
          assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
          assert.equal(await client.size('all-bytes.bin'), ALL_BYTES.length);
        }));

      test('explicit FTPS: transfers work and every data connection resumes the control TLS session', async () => {
        const trace = recorder();
        await withClient({ dataMode, secure: 'explicit', rejectUnauthorized: false, trace: trace.trace }, async (client) => {
          assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
          await client.upload(Readable.from([ALL_BYTES]), `${dir}/tls-up.bin`);
          assert.equal(sha256File(join(vsftpd.root, dir, 'tls-up.bin')), sha256(ALL_BYTES));
          assert.ok((await client.list(dir)).some((e) => e.name === 'tls-up.bin' && e.size === ALL_BYTES.length));
        });
        const context = trace.lines.join('\n');
        assert.ok(trace.lines.includes('---> AUTH TLS') && trace.lines.includes('234 Proceed with negotiation.'), context);
        assert.ok(trace.lines.includes('---> PROT P') && trace.lines.includes('200 PROT now Private.'), context);
        const dataTls = trace.lines.filter((l) => l.startsWith('data connection TLS:'));
        assert.equal(dataTls.length, 3, context);
        for (const line of dataTls) assert.match(line, /session resumed from the control connection/, context);
        assert.ok(!trace.lines.some((l) => /^522 /.test(l)), `vsftpd did not refuse a data connection: ${context}`);
      });
    });
  }

  test('explicit FTPS with certificate verification: the self-signed certificate fails (kind tls), as ca it verifies', async () => {
    await rejectsWith(FtpClient.connect(options({ secure: 'explicit' })), 'tls');
    await withClient({ secure: 'explicit', ca: vsftpd.certPem }, async (client) => {
      assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
    });
  });

  describe('the ferry binary against vsftpd', () => {
    const env = () => ({ FERRY_PASSWORD: vsftpd.password });
    const url = (path: string) => `ftp://${vsftpd.user}@127.0.0.1:${vsftpd.port}/${path}`;

    test('ls, ls -l, get, put (passive and active), cat', async () => {
      vsftpd.mkdir('cli');
      vsftpd.writeFile('cli/all-bytes.bin', ALL_BYTES);
      vsftpd.writeFile('cli/random.bin', randomData());
      const ls = await runFerry(['ls', url('cli/')], { env: env() });
      assert.equal(ls.code, 0, ls.describe());
      assert.deepEqual(ls.stdout.toString().trim().split('\n').sort(), ['all-bytes.bin', 'random.bin']);
      const long = await runFerry(['ls', '-l', url('cli')], { env: env() });
      assert.equal(long.code, 0, long.describe());
      assert.match(long.stdout.toString(), new RegExp(`^- +${randomData().length} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d random\\.bin$`, 'm'));
      for (const mode of ['--passive', '--active']) {
        const out = join(local.dir, `cli-get${mode}`);
        mkdirSync(out, { recursive: true });
        const get = await runFerry(['get', mode, url('cli/random.bin'), out], { env: env() });
        assert.equal(get.code, 0, get.describe());
        assert.equal(sha256File(join(out, 'random.bin')), sha256(randomData()));
        const source = join(local.dir, `put${mode}.bin`);
        writeFileSync(source, ALL_BYTES);
        const put = await runFerry(['put', mode, source, url('cli/')], { env: env() });
        assert.equal(put.code, 0, put.describe());
        assert.equal(sha256File(join(vsftpd.root, 'cli', `put${mode}.bin`)), sha256(ALL_BYTES));
      }
      const cat = await runFerry(['cat', url('cli/all-bytes.bin')], { env: env() });
      assert.equal(cat.code, 0, cat.describe());
      assert.equal(sha256(cat.stdout), sha256(ALL_BYTES));
    });

    test('get -c resumes; explicit FTPS with -k; missing file is exit 4; bad password exit 3', async () => {
      vsftpd.writeFile('cli2/random.bin', randomData());
      const partial = join(local.dir, 'vs-cli-partial.bin');
      writeFileSync(partial, randomData().subarray(0, 2_000_000));
      const resume = await runFerry(['get', '-c', url('cli2/random.bin'), partial], { env: env() });
      assert.equal(resume.code, 0, resume.describe());
      assert.equal(sha256File(partial), sha256(randomData()));
      const tlsOut = join(local.dir, 'vs-cli-tls.bin');
      const tls = await runFerry(['get', '--tls', '-k', '-d', url('cli2/random.bin'), tlsOut], { env: env() });
      assert.equal(tls.code, 0, tls.describe());
      assert.equal(sha256File(tlsOut), sha256(randomData()));
      assert.match(tls.stderr, /^data connection TLS: .*session resumed from the control connection$/m, tls.describe());
      const missing = await runFerry(['get', url('cli2/nope.bin'), join(local.dir, 'nope.bin')], { env: env() });
      assert.equal(missing.code, 4, missing.describe());
      const badPassword = await runFerry(['ls', url('')], { env: { FERRY_PASSWORD: 'wrong' } });
      assert.equal(badPassword.code, 3, badPassword.describe());
    });
  });
});
