/**
 * Charsets as an admin configures them, run by the real `ferry serve`: a top-level
 * charset, a [sites.NAME] one chosen by HOST, a user's own from the users file; and a
 * charset name Ferry does not accept is a config error naming its key (exit 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { serveWithConfig, siteRoots, twoSiteConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { stopChild } from '../helpers/run-process.js';
import { addUser } from '../helpers/users-file.js';
import { FERRY_BIN } from '../client/support.js';

const PASSWORD = 'charset-secret';
const NAME = '中文文件名.txt';

/** Sets `key = value` for one user of a users file made by `ferry user add`. */
function setUserKey(file: string, user: string, key: string, value: string): void {
  const tree = parseToml(readFileSync(file, 'utf8')) as { users: Record<string, Record<string, unknown>> };
  tree.users[user]![key] = value;
  writeFileSync(file, stringifyToml(tree));
}

/** The names NLST gives, as bytes. */
async function nlst(ftp: FtpConnection): Promise<Buffer[]> {
  const { data } = await ftp.download('NLST');
  return data
    .toString('latin1')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => Buffer.from(line, 'latin1'));
}

const hex = (lines: Buffer[]) => lines.map((line) => line.toString('hex')).join(' ');

describe('charset in the config, per site and per user, through ferry serve', () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-charset-'));
    siteRoots(dir, ['a', 'b'], () => NAME);
    const usersA = addUser(join(dir, 'a', 'users.toml'), 'alice', PASSWORD);
    addUser(usersA, 'carol', PASSWORD);
    setUserKey(usersA, 'carol', 'charset', 'big5');
    addUser(join(dir, 'b', 'users.toml'), 'bob', PASSWORD);
    const served = await serveWithConfig(dir, twoSiteConfig({ a: ['charset = "gbk"'], bHosts: ['ftp.b.test'], b: ['charset = "big5"'] }));
    child = served.child;
    port = served.port;
  });

  after(async () => {
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the top-level charset: alice lists in GBK; carol (charset = "big5" in the users file) in Big5', async () => {
    const alice = await FtpConnection.login('127.0.0.1', port, 'alice', PASSWORD);
    const names = await nlst(alice);
    assert.deepEqual(names, [iconv.encode(NAME, 'gbk')], hex(names));
    await alice.quit();

    const carol = await FtpConnection.login('127.0.0.1', port, 'carol', PASSWORD);
    const carolNames = await nlst(carol);
    assert.deepEqual(carolNames, [iconv.encode(NAME, 'big5')], hex(carolNames));
    await carol.quit();
  });

  test('[sites.b] charset = "big5": after HOST, names travel in Big5, before and after login', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    await ftp.expect('HOST ftp.b.test', 220);
    const named = await ftp.expect(Buffer.concat([Buffer.from('USER '), iconv.encode('名', 'big5')]), 331);
    assert.ok(named.raw[0]!.includes(iconv.encode('名', 'big5')), hex(named.raw));
    await ftp.expect('USER bob', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    const names = await nlst(ftp);
    assert.deepEqual(names, [iconv.encode(NAME, 'big5')], hex(names));
    const retrieved = await ftp.download(Buffer.concat([Buffer.from('RETR '), iconv.encode(NAME, 'big5')]));
    assert.equal(retrieved.data.toString(), 'b');
    await ftp.quit();
  });
});

describe('a charset Ferry does not accept', () => {
  /** Runs `ferry serve` on a config (and users file) and returns its exit status and stderr. */
  function serve(lines: string[], users?: string): { status: number | null; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-charset-bad-'));
    try {
      const config = join(dir, 'ferry.toml');
      if (users) writeFileSync(join(dir, 'users.toml'), users);
      writeFileSync(config, ['host = "127.0.0.1"', 'port = 0', 'root = "root"', ...(users ? ['users_file = "users.toml"'] : []), ...lines].join('\n'));
      const run = spawnSync(process.execPath, [FERRY_BIN, 'serve', '--config', config], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
      return { status: run.status, stderr: run.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('exits 2 naming the key: top level, [sites.b], the users file', async () => {
    const top = serve(['charset = "klingon"']);
    assert.equal(top.status, 2, top.stderr);
    assert.match(top.stderr, /charset: expected a charset/);

    const site = serve(['[sites.b]', 'hosts = ["ftp.b.test"]', 'charset = "utf16le"']);
    assert.equal(site.status, 2, site.stderr);
    assert.match(site.stderr, /sites\.b\.charset/);

    const dir = mkdtempSync(join(tmpdir(), 'ferry-charset-users-'));
    try {
      const users = readFileSync(addUser(join(dir, 'users.toml'), 'carol', PASSWORD), 'utf8') + 'charset = "ebcdic-ish"\n';
      const user = serve([], users);
      assert.equal(user.status, 2, user.stderr);
      assert.match(user.stderr, /users\.carol\.charset/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
