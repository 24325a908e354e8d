/**
 * Interoperability with Python's ftplib.FTP_TLS (explicit FTPS: AUTH TLS, PBSZ 0, PROT P),
 * in passive (PASV) and active (PORT) mode.
 *
 * Known fact encoded here: FTP_TLS does NOT resume the control connection's TLS session
 * on data connections (its ntransfercmd calls context.wrap_socket without `session=`),
 * so against the default tls.session_reuse = true every data command fails with 522.
 * It therefore needs tls.session_reuse = false. A three-line subclass that passes
 * `session=self.sock.session` works against the default server, with TLS 1.3 too.
 *
 * A small Python driver runs a list of operations given as JSON in argv and prints one
 * JSON document: the results (or ftplib errors), every command line sent, the control
 * connection's TLS version, and for each data connection whether TLS resumed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File } from '../helpers/data.js';
import { FTPLIB_MODES, runPythonDriver, type FtplibMode } from '../helpers/python-driver.js';
import { clientEnv, skipUnlessInstalled } from '../helpers/run-process.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { withTlsServer, type TlsTestServer } from './fixtures.js';

const DRIVER = String.raw`
import ftplib, json, ssl, sys

cfg = json.loads(sys.argv[1])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # self-signed test certificate

reused = []

class RecordingFTP_TLS(ftplib.FTP_TLS):
    """Stock FTP_TLS: a fresh TLS handshake on every data connection."""
    def __init__(self, **kwargs):
        self.sent = []
        super().__init__(**kwargs)
    def putcmd(self, line):
        self.sent.append('PASS ****' if line.startswith('PASS ') else line)
        super().putcmd(line)
    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        if isinstance(conn, ssl.SSLSocket):
            reused.append(conn.session_reused)
        return conn, size

class ReusingFTP_TLS(RecordingFTP_TLS):
    """Resumes the control connection's TLS session on data connections."""
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
            reused.append(conn.session_reused)
        return conn, size

cls = ReusingFTP_TLS if cfg['reuse'] else RecordingFTP_TLS
ftp = cls(context=context)
ftp.connect(cfg['host'], cfg['port'], timeout=15)
welcome = ftp.getwelcome()
login = ftp.login(cfg['user'], cfg['password'])  # sends AUTH TLS first
prot = ftp.prot_p()
version = ftp.sock.version()
ftp.set_pasv(cfg['passive'])

def run(op, *args):
    if op == 'retr':
        with open(args[1], 'wb') as f:
            return ftp.retrbinary('RETR ' + args[0], f.write)
    if op == 'stor':
        with open(args[0], 'rb') as f:
            return ftp.storbinary('STOR ' + args[1], f)
    if op == 'nlst':
        return sorted(ftp.nlst(*args))
    if op == 'mlsd':
        return sorted([name, facts.get('type'), facts.get('size')] for name, facts in ftp.mlsd(*args))
    if op == 'dir':
        lines = []
        ftp.dir(*args, lines.append)
        return lines
    if op == 'getresp':
        return ftp.getresp()
    raise ValueError('unknown op ' + op)

results = []
for op in cfg['ops']:
    try:
        results.append({'ok': run(*op)})
    except ftplib.all_errors as error:
        results.append({'error': type(error).__name__ + ': ' + str(error)})
try:
    quit = ftp.quit()
except ftplib.all_errors as error:
    quit = 'error: ' + str(error)
print(json.dumps({'welcome': welcome, 'login': login, 'prot': prot, 'version': version,
                  'quit': quit, 'sent': ftp.sent, 'results': results, 'reused': reused}))
`;

type Op = [string, ...string[]];

interface DriverOutput {
  welcome: string;
  login: string;
  prot: string;
  version: string;
  quit: string;
  sent: string[];
  results: Array<{ ok?: unknown; error?: string }>;
  reused: boolean[];
}

async function ftplib(server: TlsTestServer, options: { reuse: boolean; passive: boolean; ops: Op[] }): Promise<DriverOutput> {
  const local = join(server.scratch, 'py');
  mkdirSync(local, { recursive: true });
  const config = { host: server.host, port: server.port, user: USER, password: PASSWORD, ...options };
  return runPythonDriver<DriverOutput>('python3 ftplib driver', DRIVER, config, { cwd: local, env: clientEnv(server.scratch) });
}

/** Puts the test files where the driver (cwd scratch/py) and the server expect them. */
function seed(server: TlsTestServer): string {
  const local = join(server.scratch, 'py');
  mkdirSync(local, { recursive: true });
  writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES);
  writeFileSync(join(local, 'random.bin'), randomData());
  writeFileSync(join(server.root, 'remote-all.bin'), ALL_BYTES);
  writeFileSync(join(server.root, 'remote-random.bin'), randomData());
  return local;
}

const TRANSFER_OPS: Op[] = [
  ['stor', 'all-bytes.bin', 'up-all.bin'],
  ['stor', 'random.bin', 'up-random.bin'],
  ['retr', 'remote-all.bin', 'got-all.bin'],
  ['retr', 'remote-random.bin', 'got-random.bin'],
];

const LISTING_OPS: Op[] = [['nlst'], ['mlsd'], ['dir']];

function assertTransfers(server: TlsTestServer, local: string, out: DriverOutput, mode: FtplibMode): void {
  for (let i = 0; i < TRANSFER_OPS.length; i++) {
    assert.deepEqual(out.results[i], { ok: '226 Transfer complete.' }, `${TRANSFER_OPS[i]!.join(' ')}: ${JSON.stringify(out.results[i])}`);
  }
  assert.equal(sha256File(join(server.root, 'up-all.bin')), sha256(ALL_BYTES));
  assert.equal(sha256File(join(server.root, 'up-random.bin')), sha256(randomData()));
  assert.equal(sha256File(join(local, 'got-all.bin')), sha256(ALL_BYTES));
  assert.equal(sha256File(join(local, 'got-random.bin')), sha256(randomData()));
  // The FTPS dialogue: AUTH TLS before USER, then PBSZ 0 / PROT P; only the mode's data command.
  const sent = out.sent;
  assert.ok(sent.indexOf('AUTH TLS') !== -1 && sent.indexOf('AUTH TLS') < sent.indexOf(`USER ${USER}`), sent.join(' | '));
  assert.ok(sent.includes('PBSZ 0') && sent.includes('PROT P'), sent.join(' | '));
  const dataCommands = sent.filter((line) => /^(PASV|EPSV|PORT|EPRT)\b/.test(line));
  assert.ok(dataCommands.length >= TRANSFER_OPS.length);
  for (const line of dataCommands) assert.match(line, mode.command);
  assert.equal(out.prot, '200 Protection level set to P (private): data connections use TLS.');
  assert.match(out.version, /^TLSv1\.[23]$/);
}

function assertListings(out: DriverOutput, offset: number): void {
  const names = ['remote-all.bin', 'remote-random.bin', 'up-all.bin', 'up-random.bin'];
  assert.deepEqual(out.results[offset], { ok: names }, JSON.stringify(out.results[offset]));
  assert.deepEqual(out.results[offset + 1], {
    ok: [
      ['remote-all.bin', 'file', String(ALL_BYTES.length)],
      ['remote-random.bin', 'file', String(randomData().length)],
      ['up-all.bin', 'file', String(ALL_BYTES.length)],
      ['up-random.bin', 'file', String(randomData().length)],
    ],
  });
  const dir = out.results[offset + 2]?.ok as string[];
  assert.ok(Array.isArray(dir), JSON.stringify(out.results[offset + 2]));
  for (const name of names) assert.ok(dir.some((line) => line.endsWith(` ${name}`)), `dir lacks ${name}: ${dir.join(' | ')}`);
}

describe('ftplib', { skip: skipUnlessInstalled('python3') }, () => {
  for (const mode of FTPLIB_MODES) {
    describe(mode.name, () => {
      test('stock FTP_TLS against the default server (session_reuse on): data commands fail with 522', () =>
        withTlsServer({}, async (server) => {
          const local = seed(server);
          const out = await ftplib(server, { reuse: false, passive: mode.passive, ops: [['retr', 'remote-all.bin', 'got.bin'], ['getresp']] });
          assert.deepEqual(out.reused, [false], 'FTP_TLS did a fresh handshake');
          // The data connection is dropped right after the handshake; ftplib reports a TLS or
          // socket error for it (or the 522 itself), and the 522 is the reply to RETR.
          const [retr, resp] = out.results;
          assert.ok(retr?.error, JSON.stringify(out.results));
          const texts = [retr.error, resp?.error ?? String(resp?.ok)].join(' | ');
          assert.match(texts, /522 TLS session of the data connection must resume the control connection's session/);
          // The driver opens got.bin before RETR; no byte of the file may have arrived.
          assert.equal(statSync(join(local, 'got.bin')).size, 0);
        }));

      test('stock FTP_TLS with tls.session_reuse = false: uploads and downloads are byte-exact', () =>
        withTlsServer({ tls: { session_reuse: false } }, async (server) => {
          const local = seed(server);
          const out = await ftplib(server, { reuse: false, passive: mode.passive, ops: TRANSFER_OPS });
          assertTransfers(server, local, out, mode);
          assert.deepEqual(out.reused, [false, false, false, false]);
        }));

      test(
        'stock FTP_TLS with tls.session_reuse = false: listings (NLST, MLSD, LIST)',
        () =>
          withTlsServer({ tls: { session_reuse: false } }, async (server) => {
            seed(server);
            const out = await ftplib(server, { reuse: false, passive: mode.passive, ops: [...TRANSFER_OPS, ...LISTING_OPS] });
            assertListings(out, TRANSFER_OPS.length);
          }),
      );

      test('FTP_TLS subclass resuming the control session, default server (session_reuse on, TLS 1.3): everything works', () =>
        withTlsServer({}, async (server) => {
          const local = seed(server);
          const out = await ftplib(server, { reuse: true, passive: mode.passive, ops: [...TRANSFER_OPS, ...LISTING_OPS] });
          assert.equal(out.version, 'TLSv1.3');
          assertTransfers(server, local, out, mode);
          assertListings(out, TRANSFER_OPS.length);
          assert.equal(out.reused.length, TRANSFER_OPS.length + LISTING_OPS.length);
          assert.ok(out.reused.every(Boolean), `a data connection did not resume: ${JSON.stringify(out.reused)}`);
          assert.equal(out.quit, '221 Goodbye.');
        }));
    });
  }
});
