/**
 * The client library against pyftpdlib (skipped where python3-pyftpdlib is missing): a
 * second, independent server with its own MLSD facts, ABOR handling and FTPS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FtpClient } from '../../src/client/client.js';
import { ALL_BYTES, sha256, sha256File } from '../helpers/data.js';
import { pyftpdlibSkipReason, startPyftpdlib, type PyftpdlibInstance } from '../helpers/pyftpdlib.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { abortBigDownload, clientSessions, downloadToBuffer, memorySink, randomData, recorder, rejectsWith, writeServerFiles } from './support.js';

const skip = pyftpdlibSkipReason({ tls: true });

let server: PyftpdlibInstance;
let local: { dir: string; remove: () => void };
const { options, withClient } = clientSessions(() => server);

describe('FtpClient against pyftpdlib', { skip }, () => {
  before(async () => {
    server = await startPyftpdlib({ tls: true });
    local = scratchDir();
    writeServerFiles((name, data) => writeFileSync(join(server.root, name), data));
  });

  after(async () => {
    await server?.stop();
    local?.remove();
  });

  for (const dataMode of ['passive', 'active'] as const) {
    test(`${dataMode}: MLSD listing, byte-exact transfers, resume, append, mkdir/rename/remove/removeDir, errors`, () =>
      withClient({ dataMode }, async (client) => {
        assert.ok(client.features.has('MLST'));
        const dir = `py-${dataMode}`;
        mkdirSync(join(server.root, dir, 'sub'), { recursive: true });
        writeFileSync(join(server.root, dir, 'five.txt'), '12345');
        writeFileSync(join(server.root, dir, 'name with spaces.txt'), 'x'.repeat(100));
        const entries = (await client.list(dir)).sort((a, b) => a.name.localeCompare(b.name));
        assert.deepEqual(
          entries.map((e) => [e.name, e.type, e.type === 'file' ? e.size : null]),
          [
            ['five.txt', 'file', 5],
            ['name with spaces.txt', 'file', 100],
            ['sub', 'directory', null],
          ],
          entries.map((e) => e.raw).join('\n'),
        );
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
        const target = join(local.dir, `py-${dataMode}.bin`);
        await client.download('random.bin', target);
        assert.equal(sha256File(target), sha256(randomData()));
        await client.upload(target, `${dir}/up.bin`);
        assert.equal(sha256File(join(server.root, dir, 'up.bin')), sha256(randomData()));
        // Resume both ways.
        writeFileSync(target, randomData().subarray(0, 1_000_000));
        await client.download('random.bin', target, { startAt: 1_000_000 });
        assert.equal(sha256File(target), sha256(randomData()));
        writeFileSync(join(server.root, dir, 'partial.bin'), randomData().subarray(0, 500_000));
        await client.upload(target, `${dir}/partial.bin`, { startAt: 500_000 });
        assert.equal(sha256File(join(server.root, dir, 'partial.bin')), sha256(randomData()));
        await client.append(Readable.from([Buffer.from('more')]), `${dir}/five.txt`);
        assert.equal(readFileSync(join(server.root, dir, 'five.txt'), 'utf8'), '12345more');
        await client.mkdir(`${dir}/x/y/z`, { recursive: true });
        await client.upload(Readable.from([ALL_BYTES]), `${dir}/x/y/z/file.bin`);
        await client.rename(`${dir}/x/y/z/file.bin`, `${dir}/x/moved.bin`);
        assert.equal(sha256File(join(server.root, dir, 'x', 'moved.bin')), sha256(ALL_BYTES));
        await client.remove(`${dir}/x/moved.bin`);
        await client.removeDir(`${dir}/x`, { recursive: true });
        assert.ok(!existsSync(join(server.root, dir, 'x')));
        await rejectsWith(client.size('no-such-file'), 'not-found', 550);
        await rejectsWith(client.download('no-such-file', memorySink().sink), 'not-found', 550);
        // Cancel a large download; the connection stays in step.
        await abortBigDownload(client);
        assert.equal(await client.pwd(), '/');
        assert.equal(sha256(await downloadToBuffer(client, 'all-bytes.bin')), sha256(ALL_BYTES));
      }));
  }

  test('explicit FTPS (passive and active) and a bad password', async () => {
    for (const dataMode of ['passive', 'active'] as const) {
      const trace = recorder();
      await withClient({ dataMode, secure: 'explicit', rejectUnauthorized: false, trace: trace.trace }, async (client) => {
        assert.equal(sha256(await downloadToBuffer(client, 'random.bin')), sha256(randomData()));
        await client.upload(Readable.from([ALL_BYTES]), `tls-${dataMode}.bin`);
        assert.equal(sha256File(join(server.root, `tls-${dataMode}.bin`)), sha256(ALL_BYTES));
      });
      assert.ok(trace.lines.includes('---> AUTH TLS') && trace.lines.includes('---> PROT P'), trace.lines.join('\n'));
      assert.equal(trace.lines.filter((l) => l.startsWith('data connection TLS:')).length, 2, trace.lines.join('\n'));
    }
    await rejectsWith(FtpClient.connect(options({ password: 'wrong' })), 'login', 530);
  });
});
