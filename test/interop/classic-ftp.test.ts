/**
 * The classic command-line `ftp` client (Debian's tnftp): downloads and uploads in
 * passive and active mode through its URL mode, byte-exact.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256 } from '../helpers/data.js';
import { assertExitOk, runProcess, skipUnlessInstalled } from '../helpers/run-process.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { PASSWORD, startServer, USER } from '../helpers/server.js';

const RANDOM = randomData(2 * 1024 * 1024);

describe('classic ftp client (tnftp)', { skip: skipUnlessInstalled('ftp') }, () => {
  for (const mode of [{ name: 'passive', flags: ['-p'] }, { name: 'active', flags: ['-A'] }]) {
    test(`${mode.name}: download and upload are byte-exact`, async () => {
      const server = await startServer();
      const local = scratchDir('ferry-tnftp-');
      try {
        writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
        writeFileSync(join(local.dir, 'upload.bin'), RANDOM);
        const base = `ftp://${USER}:${PASSWORD}@127.0.0.1:${server.port}`;
        const down = join(local.dir, 'down');
        mkdirSync(down);
        const get = await runProcess('ftp', ['-n', '-V', ...mode.flags, `${base}/all-bytes.bin`], { cwd: down });
        assertExitOk('ftp get', get);
        assert.equal(sha256(readFileSync(join(down, 'all-bytes.bin'))), sha256(ALL_BYTES));
        const put = await runProcess('ftp', ['-n', '-V', ...mode.flags, '-u', `${base}/uploaded.bin`, 'upload.bin'], { cwd: local.dir });
        assertExitOk('ftp put', put);
        assert.equal(sha256(readFileSync(join(server.root, 'uploaded.bin'))), sha256(RANDOM));
      } finally {
        local.remove();
        await server.stop();
      }
    });
  }
});
