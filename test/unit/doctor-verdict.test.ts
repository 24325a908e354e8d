/**
 * The doctor's pure judgement: each cause code from the observations that mean it, the
 * fix texts naming the settings of Ferry, vsftpd, ProFTPD and Pure-FTPd, the one
 * recommendation, and the exit code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActiveObservation, CertificateFacts, ControlObservation, DoctorReport, ModeName, PassiveObservation, TlsObservation, TransferOutcome } from '../../src/doctor/types.js';
import {
  exitCode,
  isTlsRequiredRefusal,
  judgeControl,
  judgeModes,
  judgeTls,
  NAT_SETTINGS,
  RANGE_SETTINGS,
  recommend,
  type ModeObservation,
} from '../../src/doctor/verdict.js';

const PUBLIC = '198.51.100.10';
const listed: TransferOutcome = { ok: true, connected: true, bytes: 42, tlsResumed: null, reply: { code: 226, text: 'Transfer complete.' } };

function passive(overrides: Partial<PassiveObservation> = {}): PassiveObservation {
  return {
    mode: 'pasv',
    controlAddress: PUBLIC,
    advertised: { host: PUBLIC, port: 50001 },
    direct: { ok: true, ms: 3 },
    transfer: listed,
    ports: [50001, 50007, 50003, 50000],
    protectedData: false,
    ...overrides,
  };
}

function active(overrides: Partial<ActiveObservation> = {}): ActiveObservation {
  return {
    mode: 'port',
    controlAddress: PUBLIC,
    localAddress: '203.0.113.5',
    command: 'PORT 203,0,113,5,156,64',
    reply: { code: 200, text: 'PORT command successful.' },
    transfer: listed,
    strangers: [],
    protectedData: false,
    ...overrides,
  };
}

const skipped = { skipped: 'not tried: not in --modes' };

function modes(observations: Partial<Record<ModeName, ModeObservation>>) {
  return judgeModes({ pasv: skipped, epsv: skipped, port: skipped, eprt: skipped, ...observations });
}

const refused = { ok: false as const, failure: 'refused' as const, message: 'connecting: ECONNREFUSED' };
const timedOut = { ok: false as const, failure: 'timeout' as const, message: 'connecting timed out after 2 s' };

describe('doctor verdict: passive modes', () => {
  test('ok: the advertised address works and LIST ends in 226', () => {
    const report = modes({ pasv: passive() }).pasv;
    assert.equal(report.verdict, 'ok');
    assert.equal(report.cause, 'ok');
    assert.equal(report.fix, '');
    assert.equal(report.advertised, `${PUBLIC}:50001`);
    assert.equal(report.range, '50000-50007');
    assert.equal(report.reply, '226 Transfer complete.');
  });

  test('advertised-private-address: 10.0.0.5 refused, the control address works; the fix names the public address and every server setting', () => {
    const report = modes({ pasv: passive({ advertised: { host: '10.0.0.5', port: 50001 }, direct: timedOut, viaControl: { ok: true, ms: 2 } }) }).pasv;
    assert.equal(report.verdict, 'broken');
    assert.equal(report.cause, 'advertised-private-address');
    assert.equal(report.fix, `use passive; the server must advertise ${PUBLIC}: set ${NAT_SETTINGS}`);
    assert.match(report.fix, /passive\.address \(Ferry\) \/ pasv_address \(vsftpd\) \/ MasqueradeAddress \(ProFTPD\) \/ -P \(Pure-FTPd\)/);
    assert.match(report.detail, /10\.0\.0\.5:50001/);
  });

  test('advertised-private-address even when the control address fails too', () => {
    const report = modes({ pasv: passive({ advertised: { host: '192.168.1.4', port: 50001 }, direct: refused, viaControl: refused, transfer: undefined }) }).pasv;
    assert.equal(report.cause, 'advertised-private-address');
  });

  test('advertised-unreachable-address: a public address other than the control one that cannot be reached', () => {
    const viaWorks = modes({ pasv: passive({ advertised: { host: '203.0.113.77', port: 50001 }, direct: timedOut, viaControl: { ok: true, ms: 2 } }) }).pasv;
    assert.equal(viaWorks.cause, 'advertised-unreachable-address');
    assert.match(viaWorks.fix, new RegExp(`must advertise ${PUBLIC.replace(/\./g, '\\.')}`));
    const unreachable = modes({
      pasv: passive({ advertised: { host: '203.0.113.77', port: 50001 }, direct: { ok: false, failure: 'unreachable', message: 'EHOSTUNREACH' }, viaControl: timedOut, transfer: undefined }),
    }).pasv;
    assert.equal(unreachable.cause, 'advertised-unreachable-address');
  });

  test('data-port-blocked: the advertised (control) address times out; active is offered only when it works', () => {
    const blocked = passive({ direct: timedOut, transfer: undefined, ports: [50000, 50007, 50003] });
    const withActive = modes({ pasv: blocked, port: active() }).pasv;
    assert.equal(withActive.cause, 'data-port-blocked');
    assert.equal(
      withActive.fix,
      `the server's firewall drops data connections: open the passive range (observed ports 50000-50007; ${RANGE_SETTINGS}) on tcp, or use active mode`,
    );
    const withoutActive = modes({ pasv: blocked, port: active({ reply: { code: 500, text: 'Illegal PORT command.' }, transfer: undefined }) }).pasv;
    assert.equal(withoutActive.cause, 'data-port-blocked');
    assert.ok(!withoutActive.fix.includes('active mode'), withoutActive.fix);
  });

  test('data-port-refused: RST on the advertised (control) address', () => {
    const report = modes({ pasv: passive({ direct: refused, transfer: undefined }) }).pasv;
    assert.equal(report.cause, 'data-port-refused');
    assert.match(report.fix, /open the passive range \(observed ports 50000-50007/);
  });

  test('EPSV has no address: only blocked or refused', () => {
    const epsv = (direct: PassiveObservation['direct']) => passive({ mode: 'epsv', advertised: { host: PUBLIC, port: 50001 }, direct, transfer: undefined });
    const report = modes({ epsv: epsv(timedOut) });
    assert.equal(report.epsv.cause, 'data-port-blocked');
    assert.equal(modes({ epsv: epsv(refused) }).epsv.cause, 'data-port-refused');
  });

  test('tls-session-reuse-required: the protected data connection is refused with 522 after a handshake that did not resume', () => {
    const transfer: TransferOutcome = { ok: false, connected: true, stage: 'tls', bytes: 0, tlsResumed: null, reply: { code: 522, text: 'SSL connection failed: session reuse required' }, message: 'handshake' };
    const report = modes({ pasv: passive({ protectedData: true, transfer }) }).pasv;
    assert.equal(report.cause, 'tls-session-reuse-required');
    assert.match(report.fix, /tls\.session_reuse = false, vsftpd require_ssl_reuse=NO/);
    const plain = modes({ pasv: passive({ protectedData: false, transfer: { ...transfer, stage: 'reply' } }) }).pasv;
    assert.equal(plain.cause, 'unknown');
  });

  test('a refused PASV is broken with cause unknown and the reply in the detail', () => {
    const report = modes({ pasv: passive({ refusal: { code: 502, text: 'Passive mode is disabled.' }, advertised: undefined, direct: undefined, transfer: undefined, ports: [] }) }).pasv;
    assert.equal(report.verdict, 'broken');
    assert.equal(report.cause, 'unknown');
    assert.match(report.detail, /502 Passive mode is disabled/);
  });
});

describe('doctor verdict: active modes', () => {
  test('ok', () => assert.equal(modes({ port: active() }).port.cause, 'ok'));

  test('port-refused-by-server behind NAT: the private local address is named', () => {
    const report = modes({ port: active({ localAddress: '10.0.1.2', command: 'PORT 10,0,1,2,156,64', reply: { code: 500, text: 'Illegal PORT command.' }, transfer: undefined }), pasv: passive() }).port;
    assert.equal(report.cause, 'port-refused-by-server');
    assert.equal(report.fix, 'the server refused PORT 10,0,1,2,156,64: this machine is behind NAT (local address 10.0.1.2 is private) or the server forbids PORT to other addresses; use passive');
  });

  test('port-refused-by-server on a LAN: active mode disabled on the server', () => {
    const report = modes({ eprt: active({ mode: 'eprt', controlAddress: '127.0.0.1', localAddress: '127.0.0.1', command: 'EPRT |1|127.0.0.1|40000|', reply: { code: 502, text: 'Active mode is disabled.' }, transfer: undefined }) }).eprt;
    assert.equal(report.cause, 'port-refused-by-server');
    assert.match(report.fix, /active mode is disabled or restricted on the server \(Ferry active\.enabled/);
  });

  test('server-cannot-connect-back: 425 without 150, 150 then 425, or no connection at all', () => {
    const reply425 = { code: 425, text: "Can't open data connection to 10.1.0.2:40000: connect timed out" };
    for (const transfer of [
      { ok: false, connected: false, stage: 'connect', bytes: 0, tlsResumed: null, reply: reply425, message: `LIST: 425 ${reply425.text}` },
      { ok: false, connected: false, stage: 'connect', bytes: 0, tlsResumed: null, reply: reply425, message: 'no data connection within 2 s' },
      { ok: false, connected: false, stage: 'connect', bytes: 0, tlsResumed: null, message: 'no data connection within 2 s' },
    ] satisfies TransferOutcome[]) {
      const report = modes({ port: active({ transfer }), pasv: passive() }).port;
      assert.equal(report.cause, 'server-cannot-connect-back');
      assert.equal(report.fix, 'active mode is broken (the server cannot connect back to this machine: a firewall or NAT in front of the client); use passive mode');
      if (transfer.reply) assert.match(report.detail, /425 Can't open data connection to 10\.1\.0\.2:40000: connect timed out/);
    }
  });

  test('a mode not asked for is skipped with cause unknown', () => {
    const report = modes({}).eprt;
    assert.deepEqual(report, { verdict: 'skipped', cause: 'unknown', detail: 'not tried: not in --modes', fix: '' });
  });
});

function certificate(overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    subject: 'CN=ftp.example.com',
    issuer: "CN=R3, O=Let's Encrypt",
    names: ['ftp.example.com'],
    validTo: '2027-03-01T00:00:00.000Z',
    daysLeft: 80,
    selfSigned: false,
    trusted: true,
    nameMatches: true,
    verifyError: null,
    chain: [],
    ...overrides,
  };
}

function tls(overrides: Partial<TlsObservation> = {}): TlsObservation {
  return { mode: 'explicit', host: 'ftp.example.com', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certificate: certificate(), dataSessionResumed: true, requiredForLogin: false, ...overrides };
}

describe('doctor verdict: TLS', () => {
  test('ok', () => {
    const report = judgeTls(tls());
    assert.equal(report.verdict, 'ok');
    assert.equal(report.cause, 'ok');
    assert.equal(report.dataSessionResumed, true);
  });

  test('tls-certificate-untrusted: self-signed', () => {
    const report = judgeTls(tls({ certificate: certificate({ selfSigned: true, trusted: false, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT', issuer: 'CN=ftp.example.com' }) }));
    assert.equal(report.cause, 'tls-certificate-untrusted');
    assert.equal(report.fix, 'the certificate is self-signed: install a certificate from a CA, or give clients the CA (--ca / curl --cacert)');
  });

  test('tls-name-mismatch', () => {
    const report = judgeTls(tls({ certificate: certificate({ nameMatches: false, names: ['other.example.com'] }) }));
    assert.equal(report.cause, 'tls-name-mismatch');
    assert.match(report.fix, /names other\.example\.com, not ftp\.example\.com/);
  });

  test('tls-expired wins over the other certificate problems', () => {
    const report = judgeTls(tls({ certificate: certificate({ daysLeft: -3, trusted: false, verifyError: 'CERT_HAS_EXPIRED', nameMatches: false }) }));
    assert.equal(report.cause, 'tls-expired');
    assert.match(report.detail, /expired 3 days ago/);
  });

  test('tls-session-reuse-required', () => {
    assert.equal(judgeTls(tls({ reuseFailure: '522 session reuse required', dataSessionResumed: false })).cause, 'tls-session-reuse-required');
  });

  test('no TLS on the server: skipped', () => {
    const report = judgeTls({ mode: 'none', host: 'h', notTried: 'no AUTH TLS', protocol: null, cipher: null, certificate: null, dataSessionResumed: null, requiredForLogin: false });
    assert.equal(report.verdict, 'skipped');
    assert.equal(report.mode, 'none');
  });

  test('a plain login refused for want of TLS is recognised', () => {
    assert.ok(isTlsRequiredRefusal({ code: 530, text: 'TLS required: send AUTH TLS before logging in.' }));
    assert.ok(isTlsRequiredRefusal({ code: 530, text: 'Non-anonymous sessions must use encryption.' }));
    assert.ok(isTlsRequiredRefusal({ code: 534, text: 'Policy requires SSL.' }));
    assert.ok(!isTlsRequiredRefusal({ code: 530, text: 'Login incorrect.' }));
    assert.ok(!isTlsRequiredRefusal({ code: 421, text: 'Too many users connected; try again later.' }));
    assert.ok(isTlsRequiredRefusal({ code: 421, text: 'Sorry, cleartext sessions and weak ciphers are not accepted on this server.' }));
  });
});

const goodControl: ControlObservation = {
  host: 'ftp.example.com',
  port: 21,
  address: PUBLIC,
  addresses: [PUBLIC],
  localAddress: '203.0.113.5',
  dnsMs: 3,
  connectMs: 20,
  greeting: 'ready',
  features: ['EPSV'],
  user: 'alice',
  loginReply: { code: 230, text: 'Login successful.' },
  system: null,
};

function report(parts: { control?: ControlObservation; modes?: Partial<Record<ModeName, ModeObservation>>; tls?: TlsObservation }): DoctorReport {
  const partial = { control: judgeControl(parts.control ?? goodControl), modes: modes(parts.modes ?? { pasv: passive(), epsv: passive({ mode: 'epsv' }), port: active(), eprt: active({ mode: 'eprt' }) }), tls: judgeTls(parts.tls ?? tls()) };
  return { ...partial, recommendation: recommend(partial) };
}

describe('doctor verdict: recommendation and exit code', () => {
  test('all ok: exit 0 and the safe-default advice', () => {
    const all = report({});
    assert.equal(all.recommendation, 'every mode works; passive is the safe default for clients behind NAT');
    assert.equal(exitCode(all), 0);
  });

  test('login failed: exit 3, cause login-failed', () => {
    const failed = report({ control: { ...goodControl, loginReply: { code: 530, text: 'Login incorrect.' }, failure: { stage: 'login', message: 'refused' } }, modes: {} });
    assert.equal(failed.control.cause, 'login-failed');
    assert.equal(failed.control.login, 'failed');
    assert.equal(exitCode(failed), 3);
    assert.match(failed.recommendation, /530 Login incorrect/);
  });

  test('network failure: exit 5; TLS handshake failure: exit 6', () => {
    assert.equal(exitCode(report({ control: { ...goodControl, failure: { stage: 'connect', message: 'ECONNREFUSED' } }, modes: {} })), 5);
    assert.equal(exitCode(report({ control: { ...goodControl, failure: { stage: 'dns', message: 'ENOTFOUND' } }, modes: {} })), 5);
    assert.equal(exitCode(report({ control: { ...goodControl, failure: { stage: 'tls', message: 'handshake' } }, modes: {}, tls: tls({ failure: 'handshake' }) })), 6);
  });

  test('a broken mode is exit 1 even with a TLS problem; the passive fix comes first', () => {
    const untrusted = tls({ certificate: certificate({ trusted: false, verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
    const both = report({ modes: { pasv: passive({ advertised: { host: '10.0.0.5', port: 50001 }, direct: timedOut, viaControl: { ok: true, ms: 1 } }), port: active() }, tls: untrusted });
    assert.equal(exitCode(both), 1);
    assert.equal(both.recommendation, both.modes.pasv.fix);
    const tlsOnly = report({ tls: untrusted });
    assert.equal(exitCode(tlsOnly), 6);
    assert.equal(tlsOnly.recommendation, 'the certificate is untrusted: install a certificate from a CA, or give clients the CA (--ca / curl --cacert)');
  });

  test('TLS advice comes before active-mode advice', () => {
    const untrusted = tls({ certificate: certificate({ trusted: false, selfSigned: true, verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    const r = report({ modes: { pasv: passive(), port: active({ reply: { code: 500, text: 'no' }, transfer: undefined }) }, tls: untrusted });
    assert.match(r.recommendation, /self-signed/);
    assert.equal(exitCode(r), 1);
  });
});
