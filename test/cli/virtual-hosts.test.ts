/**
 * Two sites on one port, from one TOML config run by the real `ferry serve`: the default
 * site (top level) and [sites.b] with its own hosts, users, root, banner and certificate.
 * HOST (RFC 7151) picks a site over plain FTP; the TLS server name (SNI) picks it, and its
 * certificate, over explicit and implicit FTPS; the data connections then resume.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generateCertificate } from '../helpers/certificate.js';
import { serveWithConfig, siteRoots, twoSiteConfig } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { stopChild } from '../helpers/run-process.js';
import { addUser } from '../helpers/users-file.js';
import { FERRY_BIN } from '../client/support.js';

const PASSWORD = 'vhost-secret';

/** The common name of the certificate the server presented on the control connection. */
function presentedName(ftp: FtpConnection): string {
  return String((ftp.tls as TLSSocket).getPeerCertificate().subject.CN);
}

describe('virtual hosts: [sites.NAME] chosen by HOST and by SNI', () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let implicitPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-vhost-'));
    siteRoots(dir, ['a', 'b'], (site) => `only-on-${site}.txt`);
    addUser(join(dir, 'a', 'users.toml'), 'alice', PASSWORD);
    addUser(join(dir, 'b', 'users.toml'), 'bob', PASSWORD);
    generateCertificate(join(dir, 'a', 'tls'), 'ftp.a.test');
    generateCertificate(join(dir, 'b', 'tls'), 'ftp.b.test');
    const served = await serveWithConfig(
      dir,
      twoSiteConfig({
        a: ['banner = "Site A ready."'],
        aTables: ['[tls]', 'mode = "optional"', 'cert = "a/tls/cert.pem"', 'key = "a/tls/key.pem"', 'implicit_port = 0'],
        bHosts: ['ftp.b.test', 'FTP.B.example'],
        b: ['banner = "Site B ready."'],
        bTables: ['[sites.b.tls]', 'cert = "b/tls/cert.pem"', 'key = "b/tls/key.pem"'],
      }),
    );
    child = served.child;
    port = served.port;
    implicitPort = Number(/implicit TLS on port (\d+)/.exec(served.output())?.[1]);
    assert.match(served.output(), /site "b": ftp\.b\.test, FTP\.B\.example \(root .*b[/\\]root\)/);
  });

  after(async () => {
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });

  test('without HOST the default site answers: its banner, its users, its files; FEAT lists HOST', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    assert.equal(ftp.greeting.text, 'Site A ready.');
    const feat = await ftp.expect('FEAT', 211);
    assert.ok(feat.lines.some((line) => line.trim() === 'HOST'), feat.lines.join('\n'));
    await ftp.expect('USER bob', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 530);
    await ftp.expect('USER alice', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    const { data } = await ftp.download('NLST');
    assert.deepEqual(data.toString().trim().split(/\r\n/), ['only-on-a.txt']);
    await ftp.quit();
  });

  test('HOST picks site b (any case, trailing dot): its banner, users and root; unknown names stay on the default', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    assert.equal((await ftp.expect('HOST ftp.B.example.', 220)).text, 'Site B ready.');
    await ftp.expect('USER alice', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 530);
    await ftp.expect('USER bob', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    const { data } = await ftp.download('NLST');
    assert.deepEqual(data.toString().trim().split(/\r\n/), ['only-on-b.txt']);
    await ftp.expect('HOST ftp.b.test', 503);
    await ftp.quit();

    const other = await FtpConnection.connect('127.0.0.1', port);
    assert.equal((await other.expect('HOST ftp.nowhere.test', 220)).text, 'Site A ready.');
    await other.quit();
  });

  test('HOST after USER, or twice, is 503; REIN starts over and HOST may choose again', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    await ftp.expect('USER bob', 331);
    await ftp.expect('HOST ftp.b.test', 503);
    await ftp.expect('REIN', 220);
    await ftp.expect('HOST ftp.a.test', 220);
    await ftp.expect('HOST ftp.b.test', 503);
    await ftp.expect('REIN', 220);
    await ftp.expect('HOST ftp.b.test', 220);
    await ftp.expect('USER bob', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.quit();
  });

  test('explicit FTPS with SNI ftp.b.test: site b, its certificate, and PROT P data connections resume its session', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    ftp.tlsOptions = { servername: 'ftp.b.test' };
    await ftp.authTls();
    assert.equal(presentedName(ftp), 'ftp.b.test');
    await ftp.expect('USER bob', 331);
    await ftp.expect(`PASS ${PASSWORD}`, 230);
    await ftp.protect('P');
    const { data } = await ftp.download('NLST', 'EPSV', 'resume');
    assert.deepEqual(data.toString().trim().split(/\r\n/), ['only-on-b.txt']);
    await ftp.quit();
  });

  test('after SNI, a HOST naming another site is 504; the same site is fine', async () => {
    const ftp = await FtpConnection.connect('127.0.0.1', port);
    ftp.tlsOptions = { servername: 'ftp.b.test' };
    await ftp.authTls();
    await ftp.expect('HOST ftp.a.test', 504);
    await ftp.expect('HOST ftp.b.test', 220);
    await ftp.quit();
  });

  test('implicit FTPS: SNI chooses the certificate and the banner; no SNI gets the default site', async () => {
    const b = await FtpConnection.connectImplicit('127.0.0.1', implicitPort, { servername: 'ftp.b.test' });
    assert.equal(b.greeting.text, 'Site B ready.');
    assert.equal(presentedName(b), 'ftp.b.test');
    await b.expect('USER bob', 331);
    await b.expect(`PASS ${PASSWORD}`, 230);
    const { data } = await b.download('NLST', 'EPSV', 'resume');
    assert.deepEqual(data.toString().trim().split(/\r\n/), ['only-on-b.txt']);
    await b.quit();

    const a = await FtpConnection.connectImplicit('127.0.0.1', implicitPort);
    assert.equal(a.greeting.text, 'Site A ready.');
    assert.equal(presentedName(a), 'ftp.a.test');
    await a.quit();
  });
});

describe('switching sites does not extend the login window', () => {
  test('HOST b, REIN, HOST b, ... still ends in 421 after timeouts.login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-vhost-login-'));
    siteRoots(dir, ['a', 'b'], (site) => `only-on-${site}.txt`);
    addUser(join(dir, 'a', 'users.toml'), 'alice', PASSWORD);
    addUser(join(dir, 'b', 'users.toml'), 'bob', PASSWORD);
    const served = await serveWithConfig(dir, twoSiteConfig({ aTables: ['[timeouts]', 'login = 1'], bHosts: ['ftp.b.test'] }));
    try {
      const ftp = await FtpConnection.connect('127.0.0.1', served.port);
      const started = Date.now();
      let last = 0;
      // Bounded: well past the 1 s window, the server must have closed the connection.
      for (let round = 0; round < 20 && Date.now() - started < 4000; round++) {
        const host = await ftp.send('HOST ftp.b.test');
        last = host.code;
        if (last === 421) break;
        if ((await ftp.send('REIN')).code === 421) {
          last = 421;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(last, 421, 'the login timeout never came');
      assert.ok(Date.now() - started < 3000, `closed only after ${Date.now() - started} ms`);
      ftp.close();
    } finally {
      await stopChild(served.child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('virtual host config errors name the key and exit 2', () => {
  for (const [what, lines, key] of [
    ['a server-wide key inside a site', ['[sites.b]', 'hosts = ["b.test"]', 'port = 21'], /sites\.b\.port: set on the top level only/],
    ['a process-wide limit inside a site', ['[sites.b]', 'hosts = ["b.test"]', '[sites.b.limits]', 'zero_copy_threads = 500'], /sites\.b\.limits\.zero_copy_threads: set on the top level only/],
    ['a bad value inside a site', ['[sites.b]', 'hosts = ["b.test"]', 'banner = 5'], /sites\.b\.banner/],
    ['a site without hosts', ['[sites.b]', 'root = "x"'], /sites\.b\.hosts/],
    ['one host in two sites', ['[sites.b]', 'hosts = ["x.test"]', '[sites.c]', 'hosts = ["X.test"]'], /sites\.c\.hosts: "X\.test" is already a host of sites\.b/],
  ] as const) {
    test(what, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-vhost-config-'));
      try {
        const config = join(dir, 'ferry.toml');
        writeFileSync(config, lines.join('\n'));
        const result = spawnSync(process.execPath, [FERRY_BIN, 'serve', '--check', '--config', config], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
        assert.equal(result.status, 2, result.stdout + result.stderr);
        assert.match(result.stderr, key);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
