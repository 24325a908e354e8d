/**
 * Every control command over a real connection: login, navigation, file operations,
 * parameters, information commands, listings (LIST/NLST/MLSD/MLST/STAT) and the
 * rule that nothing but a handful of commands works before login.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { PASSWORD, READONLY_USER, startServer, USER, type TestServer } from '../helpers/server.js';
import { lines, login, parseList, parseMlsx, timeVal } from './support.js';

let server: TestServer;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server.stop();
});

/** A fresh folder under the root for one test, with alice's session already in it. */
async function sessionIn(folder: string): Promise<FtpConnection> {
  mkdirSync(join(server.root, folder), { recursive: true });
  const ftp = await login(server);
  await ftp.expect(`CWD /${folder}`, 250);
  return ftp;
}

describe('login: USER, PASS, ACCT', () => {
  test('wrong password gets 530, right one 230; USER again after login is refused', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    assert.equal(ftp.greeting.code, 220);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS wrong', 530);
    await ftp.expect('USER nobody-here', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 530);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.expect('USER bob', 530);
    await ftp.expect(`PASS ${PASSWORD}`, 202);
    await ftp.expect('PWD', 257);
    await ftp.quit();
  });

  test('PASS without USER is 503; USER without a name is 501', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect(`PASS ${PASSWORD}`, 503);
    await ftp.expect('USER', 501);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.quit();
  });

  test('three failed logins get 421 and the connection is closed', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS bad1', 530);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS bad2', 530);
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect('PASS bad3', 421);
    assert.equal(await ftp.closedByServer(), true);
    ftp.socket.destroy();
    // The limit is per connection: a new one may log in.
    const again = await login(server);
    await again.quit();
  });

  test('ACCT after login is superfluous (202)', async () => {
    const ftp = await login(server);
    await ftp.expect('ACCT something', 202);
    await ftp.quit();
  });
});

describe('navigation: CWD, CDUP, PWD, MKD, RMD and X-variants', () => {
  test('MKD/CWD/PWD/CDUP/RMD and their X aliases', async () => {
    const ftp = await sessionIn('nav');
    const mkd = await ftp.expect('MKD sub', 257);
    assert.match(mkd.text, /^"\/nav\/sub" /);
    assert.ok(statSync(join(server.root, 'nav', 'sub')).isDirectory());
    const xmkd = await ftp.expect('XMKD sub2', 257);
    assert.match(xmkd.text, /^"\/nav\/sub2" /);
    assert.ok(existsSync(join(server.root, 'nav', 'sub2')));
    await ftp.expect('MKD sub', 550);

    await ftp.expect('CWD sub', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/nav\/sub" /);
    await ftp.expect('CDUP', 250);
    assert.match((await ftp.expect('XPWD', 257)).text, /^"\/nav" /);
    await ftp.expect('XCWD sub2', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/nav\/sub2" /);
    await ftp.expect('XCUP', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/nav" /);
    await ftp.expect('CWD /nav/sub/../sub2/.', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/nav\/sub2" /);
    await ftp.expect('CWD ..', 250);

    await ftp.expect('CWD missing', 550);
    writeFileSync(join(server.root, 'nav', 'file.txt'), 'x');
    await ftp.expect('CWD file.txt', 550);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/nav" /);

    await ftp.expect('RMD sub', 250);
    assert.equal(existsSync(join(server.root, 'nav', 'sub')), false);
    await ftp.expect('XRMD sub2', 250);
    assert.equal(existsSync(join(server.root, 'nav', 'sub2')), false);
    await ftp.expect('RMD missing', 550);
    await ftp.expect('RMD file.txt', 550);
    mkdirSync(join(server.root, 'nav', 'full'));
    writeFileSync(join(server.root, 'nav', 'full', 'f'), 'x');
    await ftp.expect('RMD full', 550);
    assert.ok(existsSync(join(server.root, 'nav', 'full', 'f')));
    await ftp.expect('RMD /nav', 550); // the current directory
    await ftp.expect('MKD', 501);
    await ftp.quit();
  });

  test('CDUP at the root stays at /', async () => {
    const ftp = await login(server);
    await ftp.expect('CDUP', 250);
    assert.match((await ftp.expect('PWD', 257)).text, /^"\/" /);
    await ftp.quit();
  });

  test('a directory named a"b is quoted with the quote doubled in 257 replies', async () => {
    const ftp = await sessionIn('quotes');
    const mkd = await ftp.expect('MKD a"b', 257);
    assert.match(mkd.text, /^"\/quotes\/a""b" /);
    assert.ok(statSync(join(server.root, 'quotes', 'a"b')).isDirectory());
    await ftp.expect('CWD a"b', 250);
    const pwd = await ftp.expect('PWD', 257);
    assert.equal(pwd.text, '"/quotes/a""b" is the current directory.');
    await ftp.quit();
  });
});

describe('file operations: DELE, RNFR/RNTO, SIZE, MDTM', () => {
  test('DELE removes the file; a missing file or a directory is 550', async () => {
    const ftp = await sessionIn('dele');
    writeFileSync(join(server.root, 'dele', 'gone.txt'), 'bye');
    mkdirSync(join(server.root, 'dele', 'dir'));
    await ftp.expect('DELE gone.txt', 250);
    assert.equal(existsSync(join(server.root, 'dele', 'gone.txt')), false);
    await ftp.expect('DELE gone.txt', 550);
    await ftp.expect('DELE dir', 550);
    assert.ok(existsSync(join(server.root, 'dele', 'dir')));
    await ftp.expect('DELE', 501);
    await ftp.quit();
  });

  test('RNFR then RNTO renames files and directories', async () => {
    const ftp = await sessionIn('ren');
    writeFileSync(join(server.root, 'ren', 'old.txt'), 'content');
    await ftp.expect('RNFR old.txt', 350);
    await ftp.expect('RNTO new.txt', 250);
    assert.equal(existsSync(join(server.root, 'ren', 'old.txt')), false);
    assert.equal(readFileSync(join(server.root, 'ren', 'new.txt'), 'utf8'), 'content');

    mkdirSync(join(server.root, 'ren', 'd1'));
    await ftp.expect('RNFR d1', 350);
    await ftp.expect('RNTO /ren/d2', 250);
    assert.ok(statSync(join(server.root, 'ren', 'd2')).isDirectory());

    await ftp.expect('RNFR missing.txt', 550);
    await ftp.expect('RNTO whatever.txt', 503);
    await ftp.quit();
  });

  test('RNTO without RNFR is 503; any command between RNFR and RNTO clears it', async () => {
    const ftp = await sessionIn('ren2');
    writeFileSync(join(server.root, 'ren2', 'a.txt'), 'a');
    await ftp.expect('RNTO b.txt', 503);
    await ftp.expect('RNFR a.txt', 350);
    await ftp.expect('NOOP', 200);
    await ftp.expect('RNTO b.txt', 503);
    assert.ok(existsSync(join(server.root, 'ren2', 'a.txt')));
    assert.equal(existsSync(join(server.root, 'ren2', 'b.txt')), false);
    await ftp.expect('RNFR a.txt', 350);
    await ftp.expect('PWD', 257);
    await ftp.expect('RNTO b.txt', 503);
    assert.equal(existsSync(join(server.root, 'ren2', 'b.txt')), false);
    await ftp.quit();
  });

  test('SIZE and MDTM report the file on disk; directories and missing files are 550', async () => {
    const ftp = await sessionIn('meta');
    const file = join(server.root, 'meta', 'f.bin');
    writeFileSync(file, Buffer.alloc(12345, 7));
    utimesSync(file, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    mkdirSync(join(server.root, 'meta', 'd'));
    await ftp.expect('TYPE I', 200);
    assert.equal((await ftp.expect('SIZE f.bin', 213)).text, '12345');
    assert.equal((await ftp.expect('MDTM f.bin', 213)).text, '20200102030405');
    assert.equal((await ftp.expect('MDTM /meta/f.bin', 213)).text, '20200102030405');
    await ftp.expect('SIZE d', 550);
    await ftp.expect('MDTM d', 550);
    await ftp.expect('SIZE nope', 550);
    await ftp.expect('MDTM nope', 550);
    await ftp.quit();
  });
});

describe('parameters: TYPE, MODE, STRU', () => {
  test('TYPE A, A N, I, L 8 accepted; TYPE X 501; unsupported forms 504', async () => {
    const ftp = await login(server);
    await ftp.expect('TYPE A', 200);
    await ftp.expect('TYPE A N', 200);
    await ftp.expect('TYPE I', 200);
    await ftp.expect('TYPE L 8', 200);
    await ftp.expect('type i', 200);
    await ftp.expect('TYPE X', 501);
    await ftp.expect('TYPE E', 504);
    await ftp.expect('TYPE', 501);
    await ftp.quit();
  });

  test('MODE S accepted, B refused (504), Z not accepted', async () => {
    const ftp = await login(server);
    await ftp.expect('MODE S', 200);
    await ftp.expect('MODE B', 504);
    const z = await ftp.send('MODE Z');
    assert.ok(z.code === 504 || z.code === 501, z.lines.join(' | '));
    await ftp.expect('MODE', 501);
    await ftp.quit();
  });

  test('STRU F accepted, STRU R refused (504)', async () => {
    const ftp = await login(server);
    await ftp.expect('STRU F', 200);
    await ftp.expect('STRU R', 504);
    await ftp.expect('STRU P', 504);
    await ftp.expect('STRU Q', 501);
    await ftp.quit();
  });
});

describe('information: SYST, NOOP, HELP, SITE, ALLO, STAT, FEAT, OPTS', () => {
  test('SYST, NOOP, ALLO', async () => {
    const ftp = await login(server);
    const syst = await ftp.expect('SYST', 215);
    assert.equal(syst.lines[0], '215 UNIX Type: L8');
    await ftp.expect('NOOP', 200);
    await ftp.expect('ALLO 1000', 202);
    await ftp.quit();
  });

  test('HELP lists the commands; HELP RETR gives its syntax; SITE HELP', async () => {
    const ftp = await login(server);
    const help = await ftp.expect('HELP', 214);
    assert.ok(help.lines.length > 2);
    assert.match(help.lines[0]!, /^214-/);
    assert.match(help.lines[help.lines.length - 1]!, /^214 /);
    const verbs = help.lines.slice(1, -1).join(' ').split(/\s+/).filter(Boolean);
    for (const verb of ['RETR', 'STOR', 'LIST', 'EPSV', 'MLSD', 'XPWD', 'ABOR', 'QUIT']) assert.ok(verbs.includes(verb), verb);
    const retr = await ftp.expect('HELP RETR', 214);
    assert.match(retr.text, /RETR/);
    await ftp.expect('HELP NOSUCH', 501);
    const site = await ftp.expect('SITE HELP', 214);
    assert.ok(site.lines.length >= 2);
    await ftp.expect('SITE NOSUCH', 504);
    await ftp.expect('SITE', 501);
    await ftp.quit();
  });

  test('STAT without argument is a 211 multi-line status', async () => {
    const ftp = await login(server);
    const stat = await ftp.expect('STAT', 211);
    assert.ok(stat.lines.length >= 3, stat.lines.join(' | '));
    assert.match(stat.lines[0]!, /^211-/);
    assert.match(stat.lines[stat.lines.length - 1]!, /^211 /);
    assert.ok(stat.lines.some((line) => line.includes(`Logged in as ${USER}`)));
    await ftp.quit();
  });

  test('STAT path gives a 213 listing on the control connection', async () => {
    const ftp = await sessionIn('statdir');
    writeFileSync(join(server.root, 'statdir', 'one.txt'), '1');
    writeFileSync(join(server.root, 'statdir', 'two.txt'), '22');
    const stat = await ftp.expect('STAT /statdir', 213);
    assert.match(stat.lines[0]!, /^213-/);
    assert.match(stat.lines[stat.lines.length - 1]!, /^213 /);
    const body = parseList(
      stat.lines
        .slice(1, -1)
        .map((line) => line.replace(/^ /, '') + '\r\n')
        .join(''),
    );
    assert.deepEqual(
      body.map((entry) => [entry.name, entry.size]),
      [
        ['one.txt', 1],
        ['two.txt', 2],
      ],
    );
    const single = await ftp.expect('STAT two.txt', 213);
    assert.equal(single.lines.length, 3);
    assert.match(single.lines[1]!, /\s2 .* two\.txt$/);
    await ftp.expect('STAT missing', 550);
    await ftp.quit();
  });

  test('FEAT lists the extensions (also before login)', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    const feat = await ftp.expect('FEAT', 211);
    assert.match(feat.lines[0]!, /^211-/);
    assert.match(feat.lines[feat.lines.length - 1]!, /^211 /);
    const features = feat.lines.slice(1, -1).map((line) => {
      assert.match(line, /^ \S/, 'feature lines start with one space');
      return line.trim();
    });
    for (const expected of ['EPRT', 'EPSV', 'MDTM', 'REST STREAM', 'SIZE', 'UTF8', 'TVFS']) {
      assert.ok(features.includes(expected), `FEAT lacks ${expected}: ${features.join(', ')}`);
    }
    const mlst = features.find((f) => f.startsWith('MLST '));
    assert.ok(mlst, 'FEAT lacks MLST');
    for (const fact of ['type*;', 'size*;', 'modify*;', 'perm*;', 'unix.mode*;']) assert.ok(mlst.includes(fact), mlst);
    await ftp.quit();
  });

  test('OPTS UTF8 ON; OPTS MLST selects facts, shown in FEAT and used by MLSD and MLST', async () => {
    const ftp = await sessionIn('opts');
    writeFileSync(join(server.root, 'opts', 'f.txt'), 'abc');
    mkdirSync(join(server.root, 'opts', 'd'));
    await ftp.expect('OPTS UTF8 ON', 200);
    await ftp.expect('OPTS UTF8 OFF', 504);
    await ftp.expect('OPTS NOSUCH', 501);
    await ftp.expect('OPTS', 501);
    const opts = await ftp.expect('OPTS MLST type;size;', 200);
    assert.match(opts.text, /type;size;/);
    const feat = await ftp.expect('FEAT', 211);
    const mlst = feat.lines.map((l) => l.trim()).find((l) => l.startsWith('MLST '));
    assert.equal(mlst, 'MLST type*;size*;modify;perm;unix.mode;');
    const { data } = await ftp.download('MLSD');
    const entries = lines(data).map(parseMlsx);
    const file = entries.find((e) => e.name === 'f.txt');
    const dir = entries.find((e) => e.name === 'd');
    assert.deepEqual(file?.facts, { type: 'file', size: '3' });
    assert.deepEqual(dir?.facts, { type: 'dir' });
    const mlstReply = await ftp.expect('MLST f.txt', 250);
    assert.deepEqual(parseMlsx(mlstReply.lines[1]!.slice(1)).facts, { type: 'file', size: '3' });
    await ftp.quit();
  });
});

describe('session: REIN, QUIT', () => {
  test('REIN logs out (PWD then 530) and allows a new login', async () => {
    const ftp = await login(server);
    await ftp.expect('CWD /', 250);
    await ftp.expect('REIN', 220);
    await ftp.expect('PWD', 530);
    await ftp.expect('LIST', 530);
    await ftp.expect(`USER ${READONLY_USER}`, 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.expect('MKD /bob-dir', 550); // now bob, who is read-only
    assert.equal(existsSync(join(server.root, 'bob-dir')), false);
    await ftp.quit();
  });

  test('QUIT gets 221 and the server closes the connection', async () => {
    const ftp = await login(server);
    await ftp.expect('QUIT', 221);
    assert.equal(await ftp.closedByServer(), true);
    ftp.socket.destroy();
  });

  test('QUIT before login also gets 221', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect('QUIT', 221);
    assert.equal(await ftp.closedByServer(), true);
    ftp.socket.destroy();
  });
});

describe('before login', () => {
  /** HOST (RFC 7151) must come before USER; it is tested in test/cli/virtual-hosts.test.ts. */
  const ALLOWED = new Set(['USER', 'PASS', 'FEAT', 'SYST', 'HELP', 'NOOP', 'OPTS', 'QUIT', 'HOST']);
  /** RFC 2228 security negotiation happens before login; checked separately. */
  const SECURITY = new Set(['AUTH', 'PBSZ', 'PROT', 'ADAT', 'MIC', 'CONF', 'ENC']);
  const RFC_VERBS = [
    'ABOR', 'ACCT', 'ALLO', 'APPE', 'CDUP', 'CWD', 'DELE', 'EPRT', 'EPSV', 'LIST', 'MDTM', 'MKD', 'MLSD', 'MLST',
    'MODE', 'NLST', 'PASV', 'PORT', 'PWD', 'REST', 'RETR', 'RMD', 'RNFR', 'RNTO', 'SITE', 'SIZE', 'STAT', 'STOR',
    'STOU', 'STRU', 'TYPE', 'XCUP', 'XCWD', 'XMKD', 'XPWD', 'XRMD',
  ];

  test('allowed commands work before login', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect('SYST', 215);
    await ftp.expect('NOOP', 200);
    await ftp.expect('HELP', 214);
    await ftp.expect('FEAT', 211);
    await ftp.expect('OPTS UTF8 ON', 200);
    await ftp.quit();
  });

  test('every other verb gets 530 (nothing happens on disk)', async () => {
    writeFileSync(join(server.root, 'prelogin.txt'), 'keep');
    const ftp = await FtpConnection.connect(server.host, server.port);
    const help = await ftp.expect('HELP', 214);
    const advertised = help.lines.slice(1, -1).join(' ').split(/\s+/).filter(Boolean);
    const verbs = [...new Set([...RFC_VERBS, ...advertised])].filter((verb) => !ALLOWED.has(verb) && !SECURITY.has(verb) && verb !== 'REIN').sort();
    assert.ok(verbs.length >= RFC_VERBS.length);
    const wrong: string[] = [];
    for (const verb of verbs) {
      const argument = verb === 'PORT' ? ' 127,0,0,1,200,10' : verb === 'EPRT' ? ' |1|127.0.0.1|51210|' : ' prelogin.txt';
      const reply = await ftp.send(verb + argument);
      if (reply.code !== 530) wrong.push(`${verb}: ${reply.lines.join(' | ')}`);
      // Without an argument too (the login check comes before the syntax check).
      const bare = await ftp.send(verb);
      if (bare.code !== 530) wrong.push(`${verb} (no argument): ${bare.lines.join(' | ')}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal(readFileSync(join(server.root, 'prelogin.txt'), 'utf8'), 'keep');
    // This server has no TLS configured: AUTH is not available, PBSZ/PROT are out of sequence.
    const auth = await ftp.send('AUTH TLS');
    assert.ok([500, 502].includes(auth.code), `AUTH TLS: ${auth.lines.join(' | ')}`);
    for (const verb of ['PBSZ 0', 'PROT P']) {
      const reply = await ftp.send(verb);
      assert.ok([500, 502, 503].includes(reply.code), `${verb}: ${reply.lines.join(' | ')}`);
    }
    // The session is still usable.
    await ftp.expect(`USER ${USER}`, 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.quit();
  });

  test('REIN before login is accepted (220) and changes nothing', async () => {
    const ftp = await FtpConnection.connect(server.host, server.port);
    await ftp.expect('REIN', 220);
    await ftp.expect('PWD', 530);
    await ftp.quit();
  });
});

describe('listings: LIST, NLST, MLSD, MLST', () => {
  let ftp: FtpConnection;
  const dir = () => join(server.root, 'lists');

  before(async () => {
    mkdirSync(dir());
    writeFileSync(join(dir(), 'a.txt'), 'alpha\n');
    writeFileSync(join(dir(), 'b.txt'), Buffer.alloc(2048, 1));
    writeFileSync(join(dir(), 'c.bin'), 'c');
    writeFileSync(join(dir(), 'private.dat'), 'secret');
    chmodSync(join(dir(), 'private.dat'), 0o600);
    mkdirSync(join(dir(), 'sub'));
    const old = join(dir(), 'old.txt');
    writeFileSync(old, 'old');
    utimesSync(old, new Date('2019-11-21T09:02:00Z'), new Date('2019-11-21T09:02:00Z'));
    ftp = await login(server);
    await ftp.expect('CWD /lists', 250);
  });

  after(async () => {
    await ftp.quit();
  });

  const expectedEntries = () =>
    ['a.txt', 'b.txt', 'c.bin', 'old.txt', 'private.dat', 'sub'].map((name) => {
      const stats = statSync(join(dir(), name));
      return { name, type: stats.isDirectory() ? 'directory' : 'file', size: stats.isDirectory() ? undefined : stats.size };
    });

  test('LIST is ls -l with the right names, types and sizes', async () => {
    const { data, preliminary, final } = await ftp.download('LIST');
    assert.equal(preliminary.code, 150);
    assert.equal(final.code, 226);
    const entries = parseList(data);
    assert.deepEqual(
      entries.map((e) => ({ name: e.name, type: e.type, size: e.type === 'directory' ? undefined : e.size })),
      expectedEntries(),
    );
    assert.equal(entries.find((e) => e.name === 'private.dat')?.mode, 'rw-------');
    assert.equal(entries.find((e) => e.name === 'old.txt')?.date, 'Nov 21  2019');
    assert.equal(entries.find((e) => e.name === 'sub')?.type, 'directory');
  });

  test('LIST -la, LIST of a directory path, LIST of one file, LIST with a glob', async () => {
    const la = parseList((await ftp.download('LIST -la')).data);
    assert.deepEqual(
      la.map((e) => e.name),
      expectedEntries().map((e) => e.name),
    );
    const byPath = parseList((await ftp.download('LIST /lists')).data);
    assert.deepEqual(
      byPath.map((e) => e.name),
      expectedEntries().map((e) => e.name),
    );
    const laPath = parseList((await ftp.download('LIST -la /lists/sub')).data);
    assert.deepEqual(laPath, []);
    const one = parseList((await ftp.download('LIST b.txt')).data);
    assert.equal(one.length, 1);
    assert.equal(one[0]!.name, 'b.txt');
    assert.equal(one[0]!.size, 2048);
    const glob = parseList((await ftp.download('LIST *.txt')).data);
    assert.deepEqual(
      glob.map((e) => e.name),
      ['a.txt', 'b.txt', 'old.txt'],
    );
    const none = await ftp.download('LIST *.nothing');
    assert.equal(none.data.length, 0);
    assert.equal(none.final.code, 226);
  });

  test('LIST of a missing path is 550 without opening a data connection', async () => {
    await ftp.expect('LIST /lists/missing', 550);
    await ftp.expect('NLST /lists/missing', 550);
    await ftp.expect('MLSD /lists/missing', 550);
  });

  test('NLST gives plain names', async () => {
    const all = lines((await ftp.download('NLST')).data);
    assert.deepEqual(
      all,
      expectedEntries().map((e) => e.name),
    );
    const glob = lines((await ftp.download('NLST *.txt')).data);
    assert.deepEqual(glob, ['a.txt', 'b.txt', 'old.txt']);
    const fromRoot = lines((await ftp.download('NLST /')).data);
    assert.ok(fromRoot.includes('lists'));
  });

  test('MLSD facts match the files on disk', async () => {
    const { data, final } = await ftp.download('MLSD');
    assert.equal(final.code, 226);
    const entries = lines(data).map(parseMlsx);
    assert.deepEqual(
      entries.map((e) => e.name).sort(),
      expectedEntries().map((e) => e.name),
    );
    for (const { name, facts } of entries) {
      const stats = statSync(join(dir(), name));
      const mode = '0' + (stats.mode & 0o7777).toString(8);
      if (stats.isDirectory()) {
        assert.deepEqual(facts, { type: 'dir', modify: timeVal(stats.mtime), perm: 'cdeflmp', 'unix.mode': mode }, name);
      } else {
        assert.deepEqual(facts, { type: 'file', size: String(stats.size), modify: timeVal(stats.mtime), perm: 'adfrw', 'unix.mode': mode }, name);
      }
    }
    assert.equal(entries.find((e) => e.name === 'private.dat')?.facts['unix.mode'], '0600');
    assert.equal(entries.find((e) => e.name === 'old.txt')?.facts.modify, '20191121090200');
    await ftp.expect('MLSD a.txt', 501);
  });

  test('MLSD perm fact for the read-only user', async () => {
    const bob = await login(server, READONLY_USER);
    const { data } = await bob.download('MLSD /lists');
    const entries = lines(data).map(parseMlsx);
    assert.equal(entries.find((e) => e.name === 'a.txt')?.facts.perm, 'r');
    assert.equal(entries.find((e) => e.name === 'sub')?.facts.perm, 'el');
    await bob.quit();
  });

  test('MLST gives a 250 multi-line reply with the facts of one entry', async () => {
    const reply = await ftp.expect('MLST a.txt', 250);
    assert.equal(reply.lines.length, 3);
    assert.match(reply.lines[0]!, /^250-/);
    assert.match(reply.lines[2]!, /^250 /);
    assert.match(reply.lines[1]!, /^ \S/, 'the fact line starts with one space');
    const stats = statSync(join(dir(), 'a.txt'));
    const { facts, name } = parseMlsx(reply.lines[1]!.slice(1));
    assert.equal(name, '/lists/a.txt');
    assert.deepEqual(facts, {
      type: 'file',
      size: String(stats.size),
      modify: timeVal(stats.mtime),
      perm: 'adfrw',
      'unix.mode': '0' + (stats.mode & 0o7777).toString(8),
    });
    const cwd = await ftp.expect('MLST', 250);
    assert.equal(parseMlsx(cwd.lines[1]!.slice(1)).facts.type, 'cdir');
    const sub = await ftp.expect('MLST sub', 250);
    assert.equal(parseMlsx(sub.lines[1]!.slice(1)).facts.type, 'dir');
    await ftp.expect('MLST missing', 550);
  });
});

describe('EPSV ALL', () => {
  test('after EPSV ALL, PASV/PORT/EPRT are refused and EPSV still works', async () => {
    writeFileSync(join(server.root, 'epsvall.txt'), 'epsv all\n');
    const ftp = await login(server);
    await ftp.expect('EPSV ALL', 200);
    await ftp.expect('PASV', 503);
    await ftp.expect('PORT 127,0,0,1,200,10', 503);
    await ftp.expect('EPRT |1|127.0.0.1|51210|', 503);
    await ftp.expect('TYPE I', 200);
    const { data, final } = await ftp.download('RETR epsvall.txt', 'EPSV');
    assert.equal(final.code, 226);
    assert.equal(data.toString(), 'epsv all\n');
    await ftp.quit();
  });
});
