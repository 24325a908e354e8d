/**
 * Issue 9, active and passive mode behind NAT and firewalls, on simulated networks
 * (network namespaces, veth pairs, nft rules; test/helpers/netns.ts): `ferry serve` in
 * one namespace, the `ferry` client (and curl) in another, and for each topology what
 * works, what breaks, what the server logs about it and what `ferry doctor` diagnoses.
 * Skipped, with the reason, where namespaces cannot be made (not root, no ip/nft).
 */
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { generateCertificate } from '../helpers/certificate.js';
import { randomData, sha256, sha256File } from '../helpers/data.js';
import { inboundFirewall, masquerade, portForward } from '../helpers/nft-rules.js';
import { createTopology, netnsUnavailable, type Layout, type Topology } from '../helpers/netns.js';
import { describeRun, skipUnlessInstalled, type ProcessResult } from '../helpers/run-process.js';
import { FERRY_BIN } from '../client/support.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import type { LogEntry } from '../helpers/server-log.js';
import type { DoctorReport, ModeName, Verdict } from '../../src/doctor/types.js';
import {
  CLIENT_TIMEOUT_SECONDS, DATA_CONNECT_SECONDS, PASSIVE_PORTS, USER, curlInClient, ferryInClient, ftpUrl, serveInNamespace, writeUsersFile,
  type NamespacedFerry, type ServeOptions,
} from './support.js';

const unavailable = netnsUnavailable();
const FILE = 'random.bin';
const CONTENT = randomData(1024 * 1024 + 321);
const PASSIVE_MIN = 50000;
const PASSIVE_MAX = 50049;

// One scratch folder for the file: the server root, users file, certificate, downloads.
const scratch = scratchDirForFile('ferry-netns-');
function files(): { dir: string; root: string; users: string } {
  return { dir: scratch(), root: join(scratch(), 'root'), users: join(scratch(), 'users.toml') };
}
before(() => {
  if (unavailable) return;
  mkdirSync(files().root);
  writeFileSync(join(files().root, FILE), CONTENT);
  writeFileSync(join(files().root, 'hello.txt'), 'hello from the server namespace\n');
  assert.equal(writeUsersFile(scratch()), files().users);
});

interface Network {
  net: Topology;
  ferry: NamespacedFerry;
  serve(extra?: Partial<ServeOptions>): Promise<NamespacedFerry>;
}

/** A topology with Ferry serving in it; everything is removed when `t` ends, passed or failed. */
async function network(t: TestContext, layout: Layout, serveOptions: Partial<ServeOptions> = {}): Promise<Network> {
  const net = createTopology(layout);
  t.after(() => net.destroy());
  const serve = (extra: Partial<ServeOptions> = {}) => serveInNamespace(net, { ...files(), ...serveOptions, ...extra });
  return { net, ferry: await serve(), serve };
}

/** `ferry get [--active] URL LOCAL` from the client namespace; returns the run and the local path. */
async function get(net: Topology, port: number, mode: 'passive' | 'active', extra: string[] = []): Promise<{ run: ProcessResult; local: string }> {
  const local = join(files().dir, `download-${net.client}-${mode}-${Date.now()}.bin`);
  const args = ['get', `--${mode}`, '--timeout', String(CLIENT_TIMEOUT_SECONDS), ...extra, ftpUrl(net, port, FILE), local];
  return { run: await ferryInClient(net, args), local };
}

async function assertDownloads(net: Topology, port: number, mode: 'passive' | 'active', extra: string[] = []): Promise<void> {
  const { run, local } = await get(net, port, mode, extra);
  assert.equal(run.code, 0, describeRun(`ferry get --${mode}`, run));
  assert.equal(sha256File(local), sha256(CONTENT), `ferry get --${mode}: the downloaded bytes are the file's`);
}

async function assertListing(net: Topology, port: number, mode: 'passive' | 'active', extra: string[] = []): Promise<void> {
  const run = await ferryInClient(net, ['ls', `--${mode}`, '--timeout', String(CLIENT_TIMEOUT_SECONDS), ...extra, ftpUrl(net, port)]);
  assert.equal(run.code, 0, describeRun(`ferry ls --${mode}`, run));
  assert.deepEqual(run.stdout.toString().split('\n').filter(Boolean).sort(), ['hello.txt', FILE]);
}

/** A download that must fail (within the client's timeout, not hang). */
async function assertGetFails(net: Topology, port: number, mode: 'passive' | 'active'): Promise<ProcessResult> {
  const { run } = await get(net, port, mode);
  assert.ok(!run.timedOut, describeRun(`ferry get --${mode} hung`, run));
  assert.notEqual(run.code, 0, describeRun(`ferry get --${mode} should fail here`, run));
  return run;
}

async function doctor(net: Topology, port: number, extra: string[] = []): Promise<{ run: ProcessResult; report: DoctorReport }> {
  const url = `ftp://${USER}@${net.addresses.serverFromClient}:${port}`;
  const run = await ferryInClient(net, ['doctor', url, '--json', '--timeout', '3', ...extra], 60_000);
  let report: DoctorReport;
  try {
    report = JSON.parse(run.stdout.toString()) as DoctorReport;
  } catch {
    assert.fail(describeRun('ferry doctor --json printed no JSON', run));
  }
  return { run, report };
}

type Expected = Partial<Record<ModeName, readonly [Verdict, string]>>;

function assertModes(report: DoctorReport, expected: Expected): void {
  for (const [mode, [verdict, cause]] of Object.entries(expected) as [ModeName, readonly [string, string]][]) {
    const actual = report.modes[mode];
    assert.ok(actual, `doctor reports mode ${mode}: ${JSON.stringify(report)}`);
    assert.deepEqual({ verdict: actual.verdict, cause: actual.cause }, { verdict, cause }, `${mode}: ${JSON.stringify(actual)}`);
  }
}

const allModesOk: Expected = { pasv: ['ok', 'ok'], epsv: ['ok', 'ok'], port: ['ok', 'ok'], eprt: ['ok', 'ok'] };

/** The ports within the passive range that a text names. */
function passivePortsNamed(text: string): number[] {
  return [...text.matchAll(/\b5\d{4}\b/g)].map((match) => Number(match[0])).filter((port) => port >= PASSIVE_MIN && port <= PASSIVE_MAX);
}

const isFailedTransfer = (entry: LogEntry) => entry.msg === 'transfer' && entry.outcome === 'failed';

test('simulated networks: active and passive mode behind firewalls and NAT (issue 9)', { skip: unavailable }, async (t) => {
  await t.test('1. plain routing (client - router - server, no NAT): every mode works', async (t) => {
    const { net, ferry } = await network(t, 'routed');
    await assertListing(net, ferry.port, 'passive');
    await assertDownloads(net, ferry.port, 'passive');
    await assertListing(net, ferry.port, 'active');
    await assertDownloads(net, ferry.port, 'active');
    await t.test('ferry doctor: all four modes ok, exit 0', async () => {
      const { run, report } = await doctor(net, ferry.port);
      assertModes(report, allModesOk);
      assert.equal(run.code, 0, describeRun('ferry doctor', run));
    });
  });

  for (const refuse of ['drop', 'reset'] as const) {
    await t.test(`2. client firewall ${refuse === 'drop' ? 'dropping' : 'rejecting (TCP reset)'} inbound connections: passive works, active cannot connect back`, async (t) => {
      const { net, ferry } = await network(t, 'direct');
      net.nft(net.client, inboundFirewall({ refuse }));
      await assertDownloads(net, ferry.port, 'passive');
      const mark = ferry.log.mark();
      const failed = await assertGetFails(net, ferry.port, 'active');
      t.diagnostic(`ferry get --active: exit ${failed.code}: ${failed.stderr.trim()}`);
      const how = refuse === 'drop' ? /timed out/ : /refused/;
      assert.match(failed.stderr, /\b425\b/, describeRun('the client reports the server\'s 425', failed));
      assert.match(failed.stderr, how, describeRun('ferry get --active', failed));
      await t.test(`the server logs the failed transfer: the client address and "${how.source}"`, async () => {
        const entry = await ferry.waitForEntry(isFailedTransfer, (DATA_CONNECT_SECONDS + 3) * 1000, mark);
        assert.ok(entry, `no failed transfer logged:\n${ferry.stderr.join('\n')}`);
        assert.match(String(entry.code), /^FERRY_ERR_/, JSON.stringify(entry));
        assert.ok(String(entry.reason).includes(net.addresses.client), `reason names the client address: ${JSON.stringify(entry)}`);
        assert.match(String(entry.reason), how, JSON.stringify(entry));
      });
      await t.test('ferry doctor: port and eprt broken (server-cannot-connect-back), pasv and epsv ok', async () => {
        const { run, report } = await doctor(net, ferry.port);
        assertModes(report, { pasv: ['ok', 'ok'], epsv: ['ok', 'ok'], port: ['broken', 'server-cannot-connect-back'], eprt: ['broken', 'server-cannot-connect-back'] });
        assert.match(report.recommendation, /passive/i);
        assert.equal(run.code, 1, describeRun('ferry doctor', run));
      });
    });
  }

  await t.test('3. server firewall allowing only the control port: passive is blocked until the passive range is opened', async (t) => {
    const { net, ferry } = await network(t, 'direct');
    net.nft(net.server, inboundFirewall({ refuse: 'drop', allowTcpPorts: [ferry.port] }));
    const mark = ferry.log.mark();
    const failed = await assertGetFails(net, ferry.port, 'passive');
    t.diagnostic(`ferry get --passive: exit ${failed.code}: ${failed.stderr.trim()}`);
    await assertDownloads(net, ferry.port, 'active');
    await t.test('the server warns that the passive data connection never arrived', async () => {
      const entry = await ferry.waitForEntry((e) => e.msg === 'passive data connection never arrived', (DATA_CONNECT_SECONDS + 3) * 1000, mark);
      assert.ok(entry, `no warning logged:\n${ferry.stderr.join('\n')}`);
      assert.equal(entry.level, 40, JSON.stringify(entry));
      assert.equal(entry.passivePorts, PASSIVE_PORTS, JSON.stringify(entry));
      assert.equal(entry.advertised, net.addresses.server, JSON.stringify(entry));
      // The port the client could not reach is the one the server waited on.
      const tried = new RegExp(`${net.addresses.server.replaceAll('.', '\\.')}:(\\d+)\\b`).exec(failed.stderr);
      assert.ok(tried, describeRun('the client names the data port it could not reach', failed));
      assert.equal(entry.port, Number(tried[1]), JSON.stringify(entry));
    });
    await t.test('ferry doctor: pasv and epsv broken (data-port-blocked), naming the passive range', async () => {
      const { run, report } = await doctor(net, ferry.port);
      assertModes(report, { pasv: ['broken', 'data-port-blocked'], epsv: ['broken', 'data-port-blocked'], port: ['ok', 'ok'], eprt: ['ok', 'ok'] });
      const advice = `${report.modes.pasv.fix} ${report.modes.epsv.fix} ${report.recommendation}`;
      assert.ok(passivePortsNamed(advice).length > 0, `the advice names ports of the passive range: ${advice}`);
      const observed = [...(report.modes.pasv.ports ?? []), ...(report.modes.epsv.ports ?? [])];
      assert.ok(observed.length > 0 && observed.every((port) => port >= PASSIVE_MIN && port <= PASSIVE_MAX), `observed ports: ${observed.join(', ')}`);
      assert.equal(run.code, 1, describeRun('ferry doctor', run));
    });
    net.nft(net.server, inboundFirewall({ refuse: 'drop', allowTcpPorts: [ferry.port, `${PASSIVE_MIN}-${PASSIVE_MAX}`] }));
    await assertDownloads(net, ferry.port, 'passive');
    await assertListing(net, ferry.port, 'passive');
    await t.test('ferry doctor after opening the range: all modes ok', async () => {
      const { run, report } = await doctor(net, ferry.port);
      assertModes(report, allModesOk);
      assert.equal(run.code, 0, describeRun('ferry doctor', run));
    });
  });

  await t.test('4. server behind NAT (port forwarding): PASV advertises the private address until passive.address is set', async (t) => {
    const { net, ferry: first, serve } = await network(t, 'server-nat');
    // Port forwarding in, and (like any NAT router) the public address for the server's own
    // connections out: active mode's connection back to the client.
    const forward = (port: number) =>
      net.nft(
        net.router!,
        portForward({ publicAddress: net.addresses.serverFromClient, privateAddress: net.addresses.server, ports: [port, `${PASSIVE_MIN}-${PASSIVE_MAX}`] }) +
          masquerade({ privateNetwork: net.addresses.serverNetwork }),
      );
    forward(first.port);
    const startupWarning = (entry: LogEntry) => entry.level === 40 && entry.key === 'passive.address';
    const warned = await first.waitForEntry(startupWarning, 3000);
    assert.ok(warned, `the server warns at start-up that PASV will advertise a private address:\n${first.stderr.join('\n')}`);
    assert.ok(String(warned.msg).includes(net.addresses.server), JSON.stringify(warned));
    // EPSV names no address, so the client dials the public one: this works through the NAT.
    await assertDownloads(net, first.port, 'passive');
    await assertDownloads(net, first.port, 'active');
    await t.test('curl with PASV only: the 227 names the private address, reachable only with curl\'s skip-pasv-ip default', { skip: skipUnlessInstalled('curl') }, async () => {
      const private227 = new RegExp(`^227 .*\\(${net.addresses.server.replaceAll('.', ',')},`);
      const strict = await curlInClient(net, ['--disable-epsv', '--no-ftp-skip-pasv-ip', ftpUrl(net, first.port, FILE)]);
      assert.ok(strict.received.some((line) => private227.test(line)), describeRun('curl --no-ftp-skip-pasv-ip', strict));
      assert.notEqual(strict.code, 0, describeRun('curl cannot reach the advertised private address', strict));
      const lenient = await curlInClient(net, ['--disable-epsv', ftpUrl(net, first.port, FILE)]);
      assert.equal(lenient.code, 0, describeRun('curl --ftp-skip-pasv-ip (default)', lenient));
      assert.equal(sha256(lenient.stdout), sha256(CONTENT));
    });
    await t.test('ferry doctor: pasv broken (advertised-private-address), recommending passive.address 198.51.100.1', async () => {
      const { run, report } = await doctor(net, first.port);
      assertModes(report, { pasv: ['broken', 'advertised-private-address'], epsv: ['ok', 'ok'], port: ['ok', 'ok'], eprt: ['ok', 'ok'] });
      assert.equal(run.code, 1, describeRun('ferry doctor', run));
      assert.ok(report.recommendation.includes(net.addresses.serverFromClient), report.recommendation);
      assert.ok(report.recommendation.includes('passive.address'), report.recommendation);
    });
    await first.stop();
    const masqueraded = await serve({ masquerade: net.addresses.serverFromClient });
    forward(masqueraded.port);
    await assertDownloads(net, masqueraded.port, 'passive');
    // The start-up checks are logged before any session's lines: once a login is in, so are they.
    assert.ok(await masqueraded.waitForEntry((entry) => entry.msg === 'logged in', 3000), masqueraded.stderr.join('\n'));
    assert.equal(masqueraded.log.entries.filter(startupWarning).length, 0, masqueraded.stderr.join('\n'));
    await t.test('curl with PASV only and the advertised address taken at its word: works, 227 names the public address', { skip: skipUnlessInstalled('curl') }, async () => {
      const strict = await curlInClient(net, ['--disable-epsv', '--no-ftp-skip-pasv-ip', ftpUrl(net, masqueraded.port, FILE)]);
      assert.equal(strict.code, 0, describeRun('curl --no-ftp-skip-pasv-ip', strict));
      assert.ok(strict.received.some((line) => line.startsWith(`227 `) && line.includes(`(${net.addresses.serverFromClient.replaceAll('.', ',')},`)), describeRun('227', strict));
      assert.equal(sha256(strict.stdout), sha256(CONTENT));
    });
    await t.test('ferry doctor with --masquerade: pasv ok', async () => {
      const { run, report } = await doctor(net, masqueraded.port);
      assertModes(report, allModesOk);
      assert.equal(run.code, 0, describeRun('ferry doctor', run));
    });
  });

  await t.test('5. client behind NAT (masquerade), active mode: the server refuses PORT/EPRT to an address that is not the control peer', async (t) => {
    const { net, ferry } = await network(t, 'client-nat');
    net.nft(net.router!, masquerade({ privateNetwork: net.addresses.clientNetwork }));
    await assertDownloads(net, ferry.port, 'passive');
    const mark = ferry.log.mark();
    const failed = await assertGetFails(net, ferry.port, 'active');
    t.diagnostic(`ferry get --active: exit ${failed.code}: ${failed.stderr.trim()}`);
    // The refusal names the address the server sees (the router's) and points to passive mode.
    assert.match(failed.stderr, /\b504\b.*passive/i, describeRun('ferry get --active', failed));
    assert.ok(failed.stderr.includes(net.addresses.clientFromServer), describeRun('ferry get --active', failed));
    const refused = await ferry.waitForEntry((e) => e.msg === 'refused active data connection target', 3000, mark);
    assert.ok(refused, `no refusal logged:\n${ferry.stderr.join('\n')}`);
    assert.ok(String(refused.target).startsWith(`${net.addresses.client}:`), JSON.stringify(refused));
    await t.test('ferry doctor: port and eprt broken (port-refused-by-server), recommending passive', async () => {
      const { run, report } = await doctor(net, ferry.port);
      assertModes(report, { pasv: ['ok', 'ok'], epsv: ['ok', 'ok'], port: ['broken', 'port-refused-by-server'], eprt: ['broken', 'port-refused-by-server'] });
      assert.match(report.recommendation, /passive/i);
      assert.equal(run.code, 1, describeRun('ferry doctor', run));
    });
  });

  await t.test('6. FTPS with a self-signed certificate on plain routing: untrusted unless -k', async (t) => {
    const tls = generateCertificate(join(files().dir, 'cert'));
    const { net, ferry } = await network(t, 'routed', { tls });
    const untrusted = await ferryInClient(net, ['ls', '--tls', '--timeout', String(CLIENT_TIMEOUT_SECONDS), ftpUrl(net, ferry.port)]);
    assert.equal(untrusted.code, 6, describeRun('ferry ls --tls (self-signed)', untrusted));
    await assertListing(net, ferry.port, 'passive', ['--tls', '-k']);
    await assertDownloads(net, ferry.port, 'passive', ['--tls', '-k']);
    await assertDownloads(net, ferry.port, 'active', ['--tls', '-k']);
    await t.test('ferry doctor: tls-certificate-untrusted, exit 6', async () => {
      const { run, report } = await doctor(net, ferry.port, ['--tls']);
      assert.equal(report.tls.cause, 'tls-certificate-untrusted', JSON.stringify(report.tls));
      assert.equal(run.code, 6, describeRun('ferry doctor', run));
    });
  });

  await t.test('7. a passive.address that does not resolve (no DNS in the namespace): the start is refused, exit 2, unless allowed', async (t) => {
    const net = createTopology('direct');
    t.after(() => net.destroy());
    const { root, users } = files();
    const args = [FERRY_BIN, 'serve', '--port', '0', '--root', root, '--users', users, '--masquerade', 'ftp.nowhere.invalid'];
    const refused = await net.exec(net.server, process.execPath, args, { timeoutMs: 20_000 });
    assert.equal(refused.code, 2, describeRun('ferry serve with an unresolvable passive.address', refused));
    assert.match(refused.stderr, /passive\.address: ftp\.nowhere\.invalid does not resolve .*--allow-unresolved-passive-address/);
    const ferry = await serveInNamespace(net, { ...files(), masquerade: 'ftp.nowhere.invalid', flags: ['--allow-unresolved-passive-address'] });
    assert.ok(ferry.stderr.some((line) => line.includes('does not resolve')), `no start-up warning:\n${ferry.stderr.join('\n')}`);
    await assertDownloads(net, ferry.port, 'passive');
  });
});
