/**
 * `ls` options in LIST, NLST and STAT arguments, as old clients send them (ncftp's
 * "NLST -1", "LIST -la", "LIST -al dir"): options, not paths, as vsftpd and ProFTPD take
 * them. A real file named "-1" stays reachable as "./-1" or after "--".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FtpConnection } from '../helpers/ftp-connection.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { lines, login, parseList } from './support.js';

describe('ls-style options in LIST, NLST and STAT', () => {
  let server: TestServer;
  let ftp: FtpConnection;

  before(async () => {
    server = await startServer();
    writeFileSync(join(server.root, 'old.txt'), 'old\n');
    writeFileSync(join(server.root, 'new.txt'), 'new\n');
    writeFileSync(join(server.root, '.hidden'), 'dot\n');
    writeFileSync(join(server.root, '-1'), 'a file named -1\n');
    mkdirSync(join(server.root, 'sub'));
    writeFileSync(join(server.root, 'sub', 'inner.bin'), 'inner\n');
    utimesSync(join(server.root, 'old.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
    utimesSync(join(server.root, 'new.txt'), new Date('2025-01-01'), new Date('2025-01-01'));
    ftp = await login(server);
  });
  after(async () => {
    ftp.close();
    await server.stop();
  });

  async function names(command: string): Promise<string[]> {
    const got = await ftp.download(command);
    assert.equal(got.final.code, 226, `${command}: ${got.final.lines.join(' | ')}`);
    return lines(got.data);
  }

  test('NLST -1 (ncftpls -1) lists the current directory by name, dot files included', async () => {
    assert.deepEqual((await names('NLST -1')).sort(), ['-1', '.hidden', 'new.txt', 'old.txt', 'sub']);
    assert.deepEqual(await names('NLST -1'), await names('NLST'));
    assert.deepEqual(await names('NLST -a'), await names('NLST'));
  });

  test('NLST -1 sub and NLST -la sub list the folder, -l in the long format', async () => {
    assert.deepEqual(await names('NLST -1 sub'), ['inner.bin']);
    const long = parseList((await ftp.download('NLST -la sub')).data);
    assert.deepEqual(long.map((entry) => [entry.name, entry.size]), [['inner.bin', 6]]);
  });

  test('LIST -la, LIST -al and LIST -a -l give the same long listing; LIST -al sub lists sub', async () => {
    const la = await names('LIST -la');
    assert.deepEqual(parseList(la.map((line) => `${line}\r\n`).join('')).map((entry) => entry.name).sort(), ['-1', '.hidden', 'new.txt', 'old.txt', 'sub']);
    assert.deepEqual(await names('LIST -al'), la);
    assert.deepEqual(await names('LIST -a -l'), la);
    assert.deepEqual(parseList((await ftp.download('LIST -al sub')).data).map((entry) => entry.name), ['inner.bin']);
  });

  test('-t sorts newest first and -r reverses', async () => {
    const byTime = (await names('NLST -t')).filter((name) => name.endsWith('.txt'));
    assert.deepEqual(byTime, ['new.txt', 'old.txt']);
    const reversed = (await names('NLST -tr')).filter((name) => name.endsWith('.txt'));
    assert.deepEqual(reversed, ['old.txt', 'new.txt']);
    assert.deepEqual(await names('NLST -r'), (await names('NLST')).reverse());
  });

  test('STAT -la and STAT -la sub answer 213 with the long listing over the control connection', async () => {
    const root = await ftp.send('STAT -la');
    assert.equal(root.code, 213, root.lines.join(' | '));
    assert.ok(root.lines.some((line) => /\sold\.txt$/.test(line)), root.lines.join(' | '));
    const sub = await ftp.send('STAT -la sub');
    assert.equal(sub.code, 213, sub.lines.join(' | '));
    assert.ok(sub.lines.some((line) => /\sinner\.bin$/.test(line)), sub.lines.join(' | '));
  });

  test('-R is refused with 504 before any data connection, and the session goes on', async () => {
    for (const command of ['LIST -R', 'NLST -lR sub', 'STAT -R']) {
      const reply = await ftp.send(command);
      assert.equal(reply.code, 504, `${command}: ${reply.lines.join(' | ')}`);
      assert.match(reply.text, /Recursive listings \(-R\) are not supported/);
    }
    assert.deepEqual(await names('NLST sub'), ['inner.bin']);
  });

  test('a file named "-1" is reachable as ./-1 and after "--"', async () => {
    assert.deepEqual(await names('NLST ./-1'), ['-1']);
    assert.deepEqual(await names('NLST -- -1'), ['-1']);
    assert.deepEqual(parseList((await ftp.download('LIST -l -- -1')).data).map((entry) => entry.name), ['-1']);
    const size = await ftp.send('SIZE -1');
    assert.equal(size.code, 213, size.lines.join(' | '));
  });
});
