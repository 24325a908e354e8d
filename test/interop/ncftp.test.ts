/**
 * Interoperability with NcFTP 3.2 (ncftpls, ncftpget, ncftpput; plain FTP, which is all
 * it speaks). ncftpls sends ls options as LIST/NLST arguments ("NLST -1"), which Ferry
 * must read as options, not as a path. Each run writes ncftp's own debug log, so tests
 * assert on the commands it sent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { assertExitOk, clientEnv, describeRun, findBinary, runProcess, skipUnlessInstalled, type ProcessResult } from '../helpers/run-process.js';
import { PASSWORD, USER, withTestServer, type TestServer } from '../helpers/server.js';

const RUN_TIMEOUT_MS = 30_000;

interface NcftpRun extends ProcessResult {
  /** The command lines ncftp sent ("Cmd: ..." in its debug log). */
  sent: string[];
}

/** Runs an NcFTP tool against `server` as alice, with HOME in the scratch folder and a debug log. */
async function ncftp(server: TestServer, tool: 'ncftpls' | 'ncftpget' | 'ncftpput', args: readonly string[], cwd: string): Promise<NcftpRun> {
  const log = join(server.scratch, `${tool}-${Date.now()}.log`);
  const result = await runProcess(findBinary(tool)!, ['-d', log, '-u', USER, '-p', PASSWORD, '-P', String(server.port), '-t', '20', ...args], {
    cwd,
    env: clientEnv(server.scratch),
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const sent = readFileSync(log, 'utf8')
    .split('\n')
    .map((line) => /\sCmd: (.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { ...result, sent };
}

describe('NcFTP 3.2 (plain FTP)', { skip: skipUnlessInstalled('ncftpls') }, () => {
  function withFiles(fn: (server: TestServer, local: string) => Promise<void>): Promise<void> {
    return withTestServer({}, async (server) => {
      writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'random.bin'), randomData());
      mkdirSync(join(server.root, 'sub'));
      const local = join(server.scratch, 'local');
      mkdirSync(local);
      await fn(server, local);
    });
  }

  test('ncftpls -1 (NLST -1) lists names; ncftpls -l (LIST -l) the long format', () =>
    withFiles(async (server, local) => {
      const names = await ncftp(server, 'ncftpls', ['-1', `ftp://${server.host}/`], local);
      assertExitOk('ncftpls -1', names);
      assert.ok(names.sent.includes('NLST -1'), `ncftpls sent: ${names.sent.join(' | ')}`);
      assert.deepEqual(names.stdout.toString().split(/\r?\n/).filter(Boolean).sort(), ['all-bytes.bin', 'random.bin', 'sub']);

      const long = await ncftp(server, 'ncftpls', ['-l', `ftp://${server.host}/`], local);
      assertExitOk('ncftpls -l', long);
      const text = long.stdout.toString();
      assert.match(text, new RegExp(`^-\\S+\\s+\\d+\\s+\\S+\\s+\\S+\\s+${ALL_BYTES.length}\\s.*\\sall-bytes\\.bin$`, 'm'), text);
      assert.match(text, /^d\S+\s.*\ssub$/m, text);
    }));

  test('ncftpget downloads and ncftpput uploads byte-exact', () =>
    withFiles(async (server, local) => {
      const got = await ncftp(server, 'ncftpget', [server.host, '.', '/random.bin', '/all-bytes.bin'], local);
      assertExitOk('ncftpget', got);
      assert.equal(sha256File(join(local, 'random.bin')), sha256(randomData()));
      assert.equal(sha256File(join(local, 'all-bytes.bin')), sha256(ALL_BYTES));

      writeFileSync(join(local, 'up.bin'), randomData().subarray(0, 777_777));
      const put = await ncftp(server, 'ncftpput', [server.host, '/sub', 'up.bin'], local);
      assertExitOk('ncftpput', put);
      assert.ok(put.sent.some((line) => line.startsWith('STOR ')), describeRun('ncftpput', put));
      assert.equal(sha256File(join(server.root, 'sub', 'up.bin')), sha256(randomData().subarray(0, 777_777)));
    }));
});
