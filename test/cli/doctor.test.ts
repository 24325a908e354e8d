/**
 * `ferry doctor` as a person runs it (node bin/ferry.js, no terminal, a clean HOME,
 * the password in FERRY_PASSWORD) against a real Ferry on loopback: every mode fine;
 * a masquerade address that is not the server's (advertised-private-address); active
 * mode off (port-refused-by-server); a self-signed certificate (untrusted, then trusted
 * with --ca, sessions resumed), explicit, implicit and the plain-login fallback; a wrong
 * password; nothing listening. Then a scripted server that never connects back in
 * active mode, answering 425 with and without a 150 first, or staying silent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CAUSES, MODE_NAMES, type DoctorReport } from '../../src/doctor/types.js';
import { PASSWORD, USER, startServer, type TestServer } from '../helpers/server.js';
import { closedPort, runFerry, type CliResult } from '../client/support.js';

const env = { FERRY_PASSWORD: PASSWORD };
const FAST = ['--timeout', '2'];

function doctor(url: string, ...flags: string[]): Promise<CliResult> {
  return runFerry(['doctor', url, '--json', ...FAST, ...flags], { env, timeoutMs: 30_000 });
}

function parse(result: CliResult): DoctorReport {
  let report: DoctorReport;
  try {
    report = JSON.parse(result.stdout.toString('utf8')) as DoctorReport;
  } catch {
    assert.fail(`not JSON:\n${result.describe()}`);
  }
  return report;
}

/** The keys and codes other tools rely on. */
function assertContract(report: DoctorReport, result: CliResult): void {
  assert.deepEqual(Object.keys(report).sort(), ['control', 'modes', 'recommendation', 'tls'], result.describe());
  for (const key of ['host', 'port', 'address', 'dnsMs', 'connectMs', 'greeting', 'features', 'login', 'verdict', 'cause']) assert.ok(key in report.control, `control.${key}`);
  assert.ok(Array.isArray(report.control.features));
  assert.deepEqual(Object.keys(report.modes).sort(), [...MODE_NAMES].sort());
  for (const mode of Object.values(report.modes)) {
    assert.ok(['ok', 'broken', 'skipped'].includes(mode.verdict), mode.verdict);
    assert.ok((CAUSES as readonly string[]).includes(mode.cause), mode.cause);
    assert.equal(typeof mode.detail, 'string');
    assert.equal(typeof mode.fix, 'string');
  }
  for (const key of ['mode', 'verdict', 'cause', 'protocol', 'cipher', 'certificate', 'dataSessionResumed', 'detail', 'fix']) assert.ok(key in report.tls, `tls.${key}`);
  assert.ok((CAUSES as readonly string[]).includes(report.tls.cause));
  assert.equal(typeof report.recommendation, 'string');
  assert.ok(report.recommendation.length > 0);
}

function url(server: TestServer, scheme = 'ftp', port = server.port, user: string | null = USER): string {
  return `${scheme}://${user === null ? '' : `${user}@`}127.0.0.1:${port}/`;
}

/** Never port 20: tests run in parallel and may run as root. */
const NOT_PORT_20 = { active: { connect_from_port_20: false } };

describe('ferry doctor against Ferry', () => {
  let plain: TestServer;
  let tls: TestServer;
  before(async () => {
    plain = await startServer(NOT_PORT_20);
    tls = await startServer(NOT_PORT_20, { tls: true });
  });
  after(async () => {
    await plain?.stop();
    await tls?.stop();
  });

  test('a healthy server: every mode ok, exit 0, the contract keys, and a readable text report', async () => {
    const result = await doctor(url(plain));
    assert.equal(result.code, 0, result.describe());
    const report = parse(result);
    assertContract(report, result);
    assert.equal(report.control.login, 'ok');
    assert.equal(report.control.address, '127.0.0.1');
    assert.equal(report.control.port, plain.port);
    assert.match(report.control.greeting, /ready/i);
    assert.ok(report.control.features.includes('EPSV'), report.control.features.join());
    for (const name of MODE_NAMES) {
      assert.equal(report.modes[name].verdict, 'ok', `${name}: ${report.modes[name].detail}`);
      assert.equal(report.modes[name].cause, 'ok');
      assert.match(report.modes[name].reply ?? '', /^226 /);
    }
    assert.equal(report.modes.pasv.advertised?.split(':')[0], '127.0.0.1');
    assert.equal(report.modes.pasv.ports?.length, 4, 'four samples by default');
    assert.equal(report.tls.mode, 'none');
    assert.equal(report.tls.verdict, 'skipped');
    assert.match(report.recommendation, /every mode works/);

    const text = await runFerry(['doctor', url(plain), ...FAST, '--samples', '2'], { env });
    assert.equal(text.code, 0, text.describe());
    const out = text.stdout.toString('utf8');
    for (const line of [/^Control +✓ 127\.0\.0\.1:\d+/m, /^PASV +✓ ok: 227 advertises 127\.0\.0\.1:\d+/m, /^EPSV +✓ ok/m, /^PORT +✓ ok/m, /^EPRT +✓ ok/m, /^Recommendation: every mode works/m]) {
      assert.match(out, line, text.describe());
    }
  });

  test('--modes limits the probes; the others are skipped with cause unknown', async () => {
    const result = await doctor(url(plain), '--modes', 'epsv');
    assert.equal(result.code, 0, result.describe());
    const report = parse(result);
    assert.equal(report.modes.epsv.verdict, 'ok');
    for (const name of ['pasv', 'port', 'eprt'] as const) {
      assert.equal(report.modes[name].verdict, 'skipped');
      assert.equal(report.modes[name].cause, 'unknown');
      assert.match(report.modes[name].detail, /--modes/);
    }
  });

  test('PASV advertising 127.0.0.9 (nothing listens there; the control address works): advertised-private-address, exit 1', async () => {
    // A loopback client gets the local address unless a rule says otherwise: this rule is the NAT mistake.
    const server = await startServer({ ...NOT_PORT_20, passive: { address_rules: [{ networks: ['127.0.0.0/8'], address: '127.0.0.9' }] } });
    try {
      const result = await doctor(url(server));
      assert.equal(result.code, 1, result.describe());
      const report = parse(result);
      assertContract(report, result);
      const pasv = report.modes.pasv;
      assert.equal(pasv.verdict, 'broken');
      assert.equal(pasv.cause, 'advertised-private-address', pasv.detail);
      assert.match(pasv.advertised ?? '', /^127\.0\.0\.9:\d+$/);
      assert.match(pasv.detail, /ECONNREFUSED/);
      assert.match(pasv.detail, /control address 127\.0\.0\.1 with a fresh port works/);
      assert.match(pasv.fix, /the server must advertise 127\.0\.0\.1: set passive\.address \(Ferry\) \/ pasv_address \(vsftpd\) \/ MasqueradeAddress \(ProFTPD\) \/ -P \(Pure-FTPd\)/);
      assert.equal(report.modes.epsv.verdict, 'ok', 'EPSV carries no address');
      assert.equal(report.recommendation, pasv.fix);
    } finally {
      await server.stop();
    }
  });

  test('active mode disabled on the server: PORT and EPRT port-refused-by-server, exit 1', async () => {
    const server = await startServer({ active: { enabled: false } });
    try {
      const result = await doctor(url(server));
      assert.equal(result.code, 1, result.describe());
      const report = parse(result);
      for (const name of ['port', 'eprt'] as const) {
        assert.equal(report.modes[name].verdict, 'broken');
        assert.equal(report.modes[name].cause, 'port-refused-by-server');
        assert.match(report.modes[name].reply ?? '', /^502 /);
        assert.match(report.modes[name].fix, /use passive$/);
      }
      assert.equal(report.modes.pasv.verdict, 'ok');
      assert.equal(report.modes.epsv.verdict, 'ok');
      assert.equal(report.recommendation, report.modes.port.fix);
    } finally {
      await server.stop();
    }
  });

  test('explicit FTPS with a self-signed certificate: tls-certificate-untrusted, exit 6, the modes still probed over TLS', async () => {
    const result = await doctor(url(tls), '--tls');
    assert.equal(result.code, 6, result.describe());
    const report = parse(result);
    assertContract(report, result);
    assert.equal(report.tls.mode, 'explicit');
    assert.equal(report.tls.verdict, 'broken');
    assert.equal(report.tls.cause, 'tls-certificate-untrusted');
    assert.equal(report.tls.certificate?.selfSigned, true);
    assert.equal(report.tls.certificate?.trusted, false);
    assert.equal(report.tls.certificate?.subject, 'CN=localhost');
    assert.ok(report.tls.certificate?.names.includes('127.0.0.1'));
    assert.ok((report.tls.certificate?.daysLeft ?? -1) >= 0);
    assert.match(report.tls.protocol ?? '', /^TLSv1\.[23]$/);
    for (const name of MODE_NAMES) assert.equal(report.modes[name].verdict, 'ok', `${name}: ${report.modes[name].detail}`);
    assert.match(report.recommendation, /self-signed.*--ca \/ curl --cacert/);
  });

  test('--ca trusts it: exit 0, data sessions resumed, over explicit and implicit FTPS', async () => {
    const ca = tls.certificate!.cert;
    for (const target of [url(tls), url(tls, 'ftps', tls.implicitPort!)]) {
      const result = await doctor(target, '--tls', '--ca', ca);
      assert.equal(result.code, 0, result.describe());
      const report = parse(result);
      assert.equal(report.tls.mode, target.startsWith('ftps') ? 'implicit' : 'explicit');
      assert.equal(report.tls.verdict, 'ok', report.tls.detail);
      assert.equal(report.tls.certificate?.trusted, true);
      assert.equal(report.tls.dataSessionResumed, true);
      for (const name of MODE_NAMES) assert.equal(report.modes[name].cause, 'ok', `${name}: ${report.modes[name].detail}`);
    }
  });

  test('plain ftp:// to a server that requires TLS: the refused plain login falls back to AUTH TLS', async () => {
    const result = await doctor(url(tls), '--ca', tls.certificate!.cert, '--modes', 'epsv');
    assert.equal(result.code, 0, result.describe());
    const report = parse(result);
    assert.equal(report.control.login, 'ok');
    assert.equal(report.tls.mode, 'explicit');
    assert.equal(report.tls.requiredForLogin, true);
    assert.equal(report.tls.dataSessionResumed, true);
  });

  test('a wrong password: login-failed, exit 3, modes skipped', async () => {
    const result = await runFerry(['doctor', url(plain), '--json', ...FAST], { env: { FERRY_PASSWORD: 'wrong' } });
    assert.equal(result.code, 3, result.describe());
    const report = parse(result);
    assertContract(report, result);
    assert.equal(report.control.login, 'failed');
    assert.equal(report.control.cause, 'login-failed');
    assert.match(report.control.loginReply, /^530 /);
    for (const name of MODE_NAMES) assert.equal(report.modes[name].verdict, 'skipped');
  });

  test('nothing listening: exit 5 with the JSON still printed', async () => {
    const port = await closedPort();
    const result = await runFerry(['doctor', `ftp://127.0.0.1:${port}`, '--json', ...FAST]);
    assert.equal(result.code, 5, result.describe());
    const report = parse(result);
    assertContract(report, result);
    assert.equal(report.control.verdict, 'broken');
    assert.match(report.control.detail, /ECONNREFUSED/);
    assert.equal(report.control.connectMs, null);
  });
});

// ---------------------------------------------------------------------------------------
// A scripted server whose active connections never come
// ---------------------------------------------------------------------------------------

type ListBehaviour = '425' | '150-then-425' | 'silent';

/** Answers the login and PORT/EPRT, then fails LIST the way `behaviour` says (never connecting back). */
async function connectBackFailure(behaviour: ListBehaviour): Promise<{ port: number; commands: string[]; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const commands: string[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const send = (line: string) => socket.write(`${line}\r\n`);
    send('220 scripted');
    let buffered = '';
    let target = 'the client';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        const verb = line.split(' ')[0]!.toUpperCase();
        commands.push(verb);
        switch (verb) {
          case 'USER':
            send('331 password please');
            break;
          case 'PASS':
            send('230 in');
            break;
          case 'PORT':
          case 'EPRT':
            target = /(\d+\.\d+\.\d+\.\d+)/.exec(line.replace(/,/g, '.'))?.[1] ?? target;
            send('200 ok');
            break;
          case 'LIST': {
            const refusal = `425 Can't open data connection to ${target}: connect timed out`;
            if (behaviour === '425') send(refusal);
            else send('150 Opening data connection');
            if (behaviour === '150-then-425') setTimeout(() => send(refusal), 100);
            break;
          }
          case 'ABOR':
            send('426 aborted');
            send('226 ABOR ok');
            break;
          case 'NOOP':
            send('200 noop');
            break;
          case 'QUIT':
            send('221 bye');
            socket.end();
            break;
          default:
            send('502 not here');
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('ferry doctor: the server cannot connect back', () => {
  for (const behaviour of ['425', '150-then-425', 'silent'] as const) {
    test(`LIST answered ${behaviour}: server-cannot-connect-back, exit 1, bounded by --timeout`, async () => {
      const fake = await connectBackFailure(behaviour);
      try {
        const started = Date.now();
        const result = await runFerry(['doctor', `ftp://someone@127.0.0.1:${fake.port}`, '--json', '--timeout', '1', '--modes', 'port,eprt'], { env });
        assert.equal(result.code, 1, result.describe());
        assert.ok(Date.now() - started < 15_000, 'bounded by the timeout');
        const report = parse(result);
        assertContract(report, result);
        for (const name of ['port', 'eprt'] as const) {
          const mode = report.modes[name];
          assert.equal(mode.cause, 'server-cannot-connect-back', mode.detail);
          if (behaviour !== 'silent') assert.match(mode.detail, /425 Can't open data connection to 127\.0\.0\.1: connect timed out/);
          assert.equal(mode.fix, 'active mode is broken (the server cannot connect back to this machine: a firewall or NAT in front of the client); use passive mode');
        }
        assert.ok(fake.commands.includes('QUIT'), fake.commands.join(' '));
        assert.ok(!fake.commands.some((verb) => ['STOR', 'DELE', 'MKD', 'RMD', 'RNFR'].includes(verb)), 'read-only');
      } finally {
        await fake.close();
      }
    });
  }
});
