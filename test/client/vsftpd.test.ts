/**
 * The client library and the `ferry` binary against a real vsftpd 3.0.3 (skipped where
 * /usr/sbin/vsftpd is missing): the tests every peer gets (peer-operations.ts), and
 * vsftpd's own: no MLSD (LIST is parsed, symlinks included), and explicit FTPS with
 * require_ssl_reuse=YES (vsftpd refuses a data connection whose TLS session is not the
 * control connection's). Also: the temporary local account vsftpd's user is, which must
 * not outlive its run.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, runProcess } from '../helpers/run-process.js';
import { createTestAccount, testAccountSkipReason } from '../helpers/system-account.js';
import { startVsftpd, vsftpdSkipReason } from '../helpers/vsftpd.js';
import { peerCliTests, peerClientTests, usePeer } from './peer-operations.js';

const skip = vsftpdSkipReason({ ssl: true });

describe('FtpClient and ferry against vsftpd', { skip }, () => {
  const peer = usePeer(() => startVsftpd({ ssl: true }));

  test('FEAT without MLST; cd and pwd; LIST lines with a symlink and its target', () =>
    peer.withClient({}, async (client) => {
      assert.ok(!client.features.has('MLST'), 'vsftpd has no MLST');
      assert.ok(client.features.has('EPSV') && client.features.has('REST') && client.features.has('AUTH'));
      const server = peer.server();
      server.writeFile('links/five.txt', '12345');
      const link = join(server.root, 'links', 'link');
      if (!existsSync(link)) symlinkSync('five.txt', link);
      await client.cd('links');
      assert.equal(await client.pwd(), '/links');
      const entries = (await client.list()).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        entries.map((e) => [e.name, e.type, e.size, e.target]),
        [
          ['five.txt', 'file', 5, undefined],
          ['link', 'symlink', 8, 'five.txt'],
        ],
        entries.map((e) => e.raw).join('\n'),
      );
    }));

  peerClientTests(peer, { requiresTlsReuse: true });
  peerCliTests(peer);
});

describe('the temporary account of the vsftpd tests', { skip: testAccountSkipReason() }, () => {
  const passwdLine = (name: string) =>
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
  const helper = new URL('../helpers/system-account.js', import.meta.url).href;

  /** A separate Node process makes an account, prints its name, then ends as `end` says (without remove()). */
  async function accountOfProcessThat(end: 'exits' | 'is killed'): Promise<string> {
    const finish = end === 'exits' ? 'process.exit(1)' : "process.kill(process.pid, 'SIGKILL')";
    const script = `const { createTestAccount } = await import(${JSON.stringify(helper)}); process.stdout.write(createTestAccount('/nonexistent').name, () => ${finish});`;
    const run = await runProcess(process.execPath, ['--input-type=module', '-e', script]);
    const name = run.stdout.toString();
    assert.match(name, /^ferrytmp[0-9a-f]{8}$/, describeRun('account maker', run));
    return name;
  }

  test('a fresh name and random password each time, no login shell, its own PAM service; remove() deletes the account and the service', () => {
    const first = createTestAccount('/nonexistent');
    const second = createTestAccount('/nonexistent');
    try {
      assert.notEqual(first.name, second.name);
      assert.notEqual(first.password, second.password);
      assert.ok(first.password.length >= 24);
      assert.equal(passwdLine(first.name)?.split(':')[6], existsSync('/usr/sbin/nologin') ? '/usr/sbin/nologin' : '/bin/false', 'no login shell');
      assert.match(readFileSync(`/etc/pam.d/${first.pamService}`, 'utf8'), /^auth required pam_unix\.so nodelay$/m);
    } finally {
      first.remove();
      second.remove();
    }
    for (const account of [first, second]) {
      assert.equal(passwdLine(account.name), undefined);
      assert.ok(!existsSync(`/etc/pam.d/${account.pamService}`));
    }
  });

  test('a process that exits without remove() takes its account along; one that is killed leaves it to the next run', async () => {
    const exited = await accountOfProcessThat('exits');
    assert.equal(passwdLine(exited), undefined, 'removed by the exit handler');
    const killed = await accountOfProcessThat('is killed');
    assert.ok(passwdLine(killed), 'a killed process cannot clean up');
    createTestAccount('/nonexistent').remove();
    assert.equal(passwdLine(killed), undefined, 'removed by the next run');
    assert.ok(!existsSync(`/etc/pam.d/${killed}`));
  });
});
