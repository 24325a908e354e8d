/**
 * A production install: `ferry serve` started as root with run_as gives root up for good
 * (checked in /proc, and on the uploads' owner), a wrong run_as stops the start with exit
 * 2, the systemd unit in contrib/ passes `systemd-analyze verify`, and `npm start` runs
 * the existing build instead of compiling.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { chmodSync, chownSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_BIN, REPO_ROOT } from '../client/support.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { findBinary, stopChild } from '../helpers/run-process.js';
import { scratchDir } from '../helpers/scratch-dir.js';
import { createTestAccount, testAccountSkipReason } from '../helpers/system-account.js';
import { addUser } from '../helpers/users-file.js';

const toml = (value: string) => JSON.stringify(value);

/** `ferry serve --config FILE` with `lines` as the file; optionally as another uid/gid (spawn's own switch). */
function startServe(dir: string, lines: readonly string[], ids: { uid?: number; gid?: number } = {}): ChildProcess {
  const config = join(dir, 'ferry.toml');
  writeFileSync(config, lines.join('\n') + '\n');
  return spawn(process.execPath, [FERRY_BIN, 'serve', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
}

/** A start refused by a config error exits within a second or two; this long, and it is not going to. */
const EXIT_TIMEOUT_MS = 20_000;

/** Waits for a `ferry serve` expected to exit by itself; one still running after EXIT_TIMEOUT_MS is stopped and fails the test. */
async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdout!.resume();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, EXIT_TIMEOUT_MS, 'late')));
  const exited = await Promise.race([once(child, 'exit') as Promise<[number | null]>, late]).finally(() => clearTimeout(timer));
  if (exited === 'late') {
    await stopChild(child);
    assert.fail(`ferry serve (pid ${child.pid}) did not exit within ${EXIT_TIMEOUT_MS / 1000} s; stopped it. Its stderr:\n${stderr}`);
  }
  return { code: exited[0], stderr };
}

/** The four ids (real, effective, saved, file system) of a /proc/PID/status line. */
function procIds(pid: number, field: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!;
  return line.split(/\s+/).slice(1, 5).map(Number);
}

/** The effective, permitted and inheritable capability sets of a process (/proc/PID/status, hex masks). */
function procCapabilities(pid: number): Record<'CapEff' | 'CapPrm' | 'CapInh', bigint> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mask = (field: string) => BigInt(`0x${new RegExp(`^${field}:\\s+([0-9a-f]+)$`, 'm').exec(status)![1]}`);
  return { CapEff: mask('CapEff'), CapPrm: mask('CapPrm'), CapInh: mask('CapInh') };
}

function procGroups(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Groups:'))!;
  return line.split(/\s+/).slice(1).filter(Boolean).map(Number);
}

const BASE = ['host = "127.0.0.1"', 'port = 0', '[passive]', 'ports = "0"'];

describe('run_as', () => {
  test('an unknown run_as user stops the start before binding: exit 2, naming run_as', async () => {
    const scratch = scratchDir('ferry-install-');
    // The control port is taken: a start that bound first would fail on it instead.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await exitOf(startServe(scratch.dir, ['run_as = "no-such-ferry-user"', ...BASE.map((line) => (line === 'port = 0' ? `port = ${port}` : line))]));
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /config error: run_as: there is no user "no-such-ferry-user"/);
    } finally {
      taken.close();
      scratch.remove();
    }
  });

  const skip = testAccountSkipReason();
  test('as root: once listening, the process is the run_as account for good, and uploads are its files', { skip: skip && `skipped: ${skip}` }, async () => {
    const scratch = scratchDir('ferry-install-');
    // The account must reach its root through the scratch folder (mkdtemp makes it 0700).
    chmodSync(scratch.dir, 0o755);
    const account = createTestAccount(join(scratch.dir, 'home'));
    let child: ChildProcess | undefined;
    try {
      const root = join(scratch.dir, 'root');
      mkdirSync(root);
      chownSync(root, account.uid, account.gid);
      const users = addUser(join(scratch.dir, 'users.toml'), 'alice', 'alice-secret');
      // The transfer log is opened as root, in a folder only root may write: it must still be written after the switch.
      const log = join(scratch.dir, 'xferlog');
      // A site whose root Ferry makes (as root, so the account cannot write it): the start says so.
      const siteRoot = join(scratch.dir, 'site-root');
      child = startServe(scratch.dir, [
        `run_as = "${account.name}"`, `root = ${toml(root)}`, `users_file = ${toml(users)}`, ...BASE,
        '[log]', `transfers = ${toml(log)}`,
        '[sites.b]', 'hosts = ["b.example"]', `root = ${toml(siteRoot)}`,
      ]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const port = await waitForReady(child).port;
      assert.ok(stderr.includes(`${account.name} cannot write ${siteRoot}`), stderr);
      assert.ok(!stderr.includes(`cannot write ${root}`), stderr);

      assert.deepEqual(procIds(child.pid!, 'Uid'), [account.uid, account.uid, account.uid, account.uid], 'real, effective, saved and fs uid');
      assert.deepEqual(procIds(child.pid!, 'Gid'), [account.gid, account.gid, account.gid, account.gid], 'real, effective, saved and fs gid');
      assert.deepEqual(procGroups(child.pid!), [account.gid], "only the account's own group, none of root's");

      const ftp = await FtpConnection.login('127.0.0.1', port, 'alice', 'alice-secret');
      const upload = await ftp.upload('STOR uploaded.bin', Buffer.from('owned by the account\n'));
      assert.equal(upload.final.code, 226, upload.final.text);
      await ftp.quit();
      const stat = statSync(join(root, 'uploaded.bin'));
      assert.deepEqual([stat.uid, stat.gid], [account.uid, account.gid], 'the upload belongs to the run_as account');
      assert.match(readFileSync(log, 'utf8'), /uploaded\.bin/, 'the transfer log opened as root is still written');
    } finally {
      if (child) await stopChild(child);
      account.remove();
      scratch.remove();
    }
  });

  test('as root: run_as keeps CAP_NET_BIND_SERVICE alone for active mode from port 20, and nothing when port 20 is off', { skip: skip && `skipped: ${skip}` }, async () => {
    const scratch = scratchDir('ferry-install-');
    chmodSync(scratch.dir, 0o755);
    const account = createTestAccount(join(scratch.dir, 'home'));
    const children: ChildProcess[] = [];
    try {
      const root = join(scratch.dir, 'root');
      mkdirSync(root);
      chownSync(root, account.uid, account.gid);
      writeFileSync(join(root, 'file.txt'), 'from port 20\n');
      const users = addUser(join(scratch.dir, 'users.toml'), 'alice', 'alice-secret');
      const serveWith = async (port20: boolean) => {
        const dir = join(scratch.dir, port20 ? 'port20' : 'ephemeral');
        mkdirSync(dir);
        const child = startServe(dir, [`run_as = "${account.name}"`, `root = ${toml(root)}`, `users_file = ${toml(users)}`, ...BASE, '[active]', `connect_from_port_20 = ${port20}`]);
        children.push(child);
        child.stderr!.resume();
        return { child, port: await waitForReady(child).port };
      };
      const withPort20 = await serveWith(true);
      assert.deepEqual(procCapabilities(withPort20.child.pid!), { CapEff: 0x400n, CapPrm: 0x400n, CapInh: 0n }, 'CAP_NET_BIND_SERVICE (bit 10) and nothing else');
      assert.deepEqual(procIds(withPort20.child.pid!, 'Uid'), [account.uid, account.uid, account.uid, account.uid]);
      const ftp = await FtpConnection.login('127.0.0.1', withPort20.port, 'alice', 'alice-secret');
      const accepted = await ftp.prepareData('PORT');
      assert.equal((await ftp.send('RETR file.txt')).code, 150);
      const data = await accepted();
      assert.equal(data.remotePort, 20, 'the active data connection comes from port 20');
      data.resume();
      assert.equal((await ftp.read()).code, 226);
      await ftp.quit();

      const without = await serveWith(false);
      assert.deepEqual(procCapabilities(without.child.pid!), { CapEff: 0n, CapPrm: 0n, CapInh: 0n }, 'no capability at all');
    } finally {
      for (const child of children) await stopChild(child);
      account.remove();
      scratch.remove();
    }
  });

  test('not root: run_as naming another account is refused (exit 2) instead of ignored; naming the running one is fine', { skip: skip && `skipped: ${skip}` }, async () => {
    const scratch = scratchDir('ferry-install-');
    chmodSync(scratch.dir, 0o755);
    const account = createTestAccount(join(scratch.dir, 'home'));
    // The account runs Ferry here and makes its root in the folder.
    chownSync(scratch.dir, account.uid, account.gid);
    let same: ChildProcess | undefined;
    try {
      const result = await exitOf(startServe(scratch.dir, ['run_as = "root:root"', ...BASE], { uid: account.uid, gid: account.gid }));
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /config error: run_as: "root" is root \(uid 0\)/);
      const other = await exitOf(startServe(scratch.dir, ['run_as = "nobody"', ...BASE], { uid: account.uid, gid: account.gid }));
      assert.equal(other.code, 2, other.stderr);
      assert.match(other.stderr, /config error: run_as: switching to nobody:\S+ \(uid \d+, gid \d+\) needs root, but Ferry runs as uid \d+/);
      // Already that account (systemd's User=): nothing to switch, it serves.
      same = startServe(scratch.dir, [`run_as = "${account.name}"`, 'root = "same-root"', ...BASE], { uid: account.uid, gid: account.gid });
      same.stderr!.resume();
      await waitForReady(same).port;
      assert.deepEqual(procIds(same.pid!, 'Uid'), [account.uid, account.uid, account.uid, account.uid]);
      const exited = once(same, 'exit');
      same.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
    } finally {
      // Stopped before its account goes (a failed assertion above must not leave it running).
      if (same) await stopChild(same);
      account.remove();
      scratch.remove();
    }
  });
});

const systemdAnalyze = findBinary('systemd-analyze');
test('contrib/ferry.service passes systemd-analyze verify without a warning', { skip: !systemdAnalyze && 'skipped: systemd-analyze is not installed (Debian package systemd)' }, () => {
  const scratch = scratchDir('ferry-unit-');
  try {
    const unit = readFileSync(join(REPO_ROOT, 'contrib', 'ferry.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/ferry serve --config \/etc\/ferry\/ferry\.toml$/m, 'the path the README installs to');
    // verify checks that ExecStart's program exists: point it at this checkout's.
    const file = join(scratch.dir, 'ferry.service');
    writeFileSync(file, unit.replace(/^ExecStart=\/usr\/local\/bin\/ferry /m, `ExecStart=${FERRY_BIN} `));
    const result = spawnSync(systemdAnalyze!, ['verify', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'no warnings');
  } finally {
    scratch.remove();
  }
});

describe('build once, start fast', () => {
  test('npm start runs the built CLI: the build is made at install (prepare), not before every start', () => {
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(scripts.prepare, 'npm run build');
    assert.equal(scripts.prestart, undefined, 'no build before start');
    assert.equal(scripts.start, 'node bin/ferry.js serve');
  });

  test('bin/ferry.js without a build says how to make one (exit 1), not a stack trace', () => {
    const scratch = scratchDir('ferry-unbuilt-');
    try {
      cpSync(join(REPO_ROOT, 'bin'), join(scratch.dir, 'bin'), { recursive: true });
      cpSync(join(REPO_ROOT, 'package.json'), join(scratch.dir, 'package.json'));
      const result = spawnSync(process.execPath, [join(scratch.dir, 'bin', 'ferry.js'), '--version'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 1);
      assert.equal(result.stderr, 'ferry: Ferry is not built (no dist/): run `npm install` (or `npm run build`) in the checkout first\n');
    } finally {
      scratch.remove();
    }
  });
});
