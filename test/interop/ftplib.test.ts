/**
 * Interoperability with Python's ftplib, in passive mode (PASV over IPv4) and active
 * mode (PORT over IPv4), plus EPSV/EPRT over IPv6: binary and ASCII transfers,
 * listings, file management, resume, ABOR, UTF-8 names, anonymous and read-only users.
 *
 * A small Python driver runs a list of operations given as JSON in argv and prints one
 * JSON document: each operation's result (or its ftplib error text) and every command
 * line ftplib sent, so tests can check which data-connection commands were used.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_BYTES, randomData, sha256, sha256File, treeHashes } from '../helpers/data.js';
import { FTPLIB_MODES, runPythonDriver, type FtplibMode } from '../helpers/python-driver.js';
import { skipUnlessInstalled } from '../helpers/run-process.js';
import { PASSWORD, USER } from '../helpers/server.js';
import { CJK_NAME, SPACED_NAME, ipv6LoopbackAvailable, parseListLines, withServer, type InteropContext } from './fixtures.js';

const SKIP_PYTHON = skipUnlessInstalled('python3');

const DRIVER = String.raw`
import base64, ftplib, json, socket, sys

cfg = json.loads(sys.argv[1])

class RecordingFTP(ftplib.FTP):
    def __init__(self):
        self.sent = []
        super().__init__()
    def putcmd(self, line):
        self.sent.append('PASS ****' if line.startswith('PASS ') else line)
        super().putcmd(line)

ftp = RecordingFTP()
ftp.connect(cfg['host'], cfg['port'], timeout=20)
welcome = ftp.getwelcome()
login = ftp.login() if cfg['user'] is None else ftp.login(cfg['user'], cfg['password'])
ftp.set_pasv(cfg['passive'])

def run(op, *args):
    if op == 'retr':
        remote, local = args[0], args[1]
        rest = args[2] if len(args) > 2 else None
        with open(local, 'ab' if rest else 'wb') as f:
            return ftp.retrbinary('RETR ' + remote, f.write, rest=rest)
    if op == 'stor':
        with open(args[0], 'rb') as f:
            return ftp.storbinary('STOR ' + args[1], f)
    if op == 'storlines':
        with open(args[0], 'rb') as f:
            return ftp.storlines('STOR ' + args[1], f)
    if op == 'retrlines':
        lines = []
        resp = ftp.retrlines('RETR ' + args[0], lines.append)
        return {'resp': resp, 'lines': lines}
    if op == 'retr_ascii_raw':
        # The bytes exactly as they come over the data connection in TYPE A.
        ftp.voidcmd('TYPE A')
        with ftp.transfercmd('RETR ' + args[0]) as conn:
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        resp = ftp.voidresp()
        return {'resp': resp, 'base64': base64.b64encode(b''.join(chunks)).decode('ascii')}
    if op == 'abort_retr':
        # Start a download, read a little, abort it, then check the control connection
        # is still in step: every reply up to the NOOP's is collected.
        remote, urgent = args[0], args[1]
        ftp.voidcmd('TYPE I')
        conn = ftp.transfercmd('RETR ' + remote)
        received = len(conn.recv(65536))
        if urgent == 'abort':
            first = ftp.abort()  # ftplib's own way: ABOR sent as TCP urgent (out-of-band) data
        else:
            if urgent == 'synch':
                # RFC 959 4.1.3 / lftp / BSD ftp: Telnet IP, then Synch (IAC DM) with DM urgent.
                ftp.sock.sendall(b'\xff\xf4\xff\xf2', socket.MSG_OOB)
            ftp.putcmd('ABOR')
            first = ftp.getmultiline()
        conn.close()
        replies = [first]
        ftp.putcmd('NOOP')
        while len(replies) < 5:
            replies.append(ftp.getmultiline())
            if replies[-1][:4] in ('200 ', '500 ', '502 '):
                break
        return {'received': received, 'replies': replies}
    if op == 'nlst':
        return sorted(ftp.nlst(*args))
    if op == 'mlsd':
        return sorted([name, facts] for name, facts in ftp.mlsd(*args))
    if op == 'dir':
        lines = []
        ftp.dir(*args, lines.append)
        return lines
    if op == 'size':
        return ftp.size(args[0])
    if op == 'rename':
        return ftp.rename(args[0], args[1])
    if op == 'delete':
        return ftp.delete(args[0])
    if op == 'mkd':
        return ftp.mkd(args[0])
    if op == 'rmd':
        return ftp.rmd(args[0])
    if op == 'pwd':
        return ftp.pwd()
    if op == 'cwd':
        return ftp.cwd(args[0])
    if op == 'sendcmd':
        return ftp.sendcmd(args[0])
    raise ValueError('unknown op ' + op)

results = []
for op in cfg['ops']:
    try:
        results.append({'ok': run(*op)})
    except ftplib.all_errors as error:
        results.append({'error': str(error)})
quit = ftp.quit()
print(json.dumps({'welcome': welcome, 'login': login, 'quit': quit, 'sent': ftp.sent, 'results': results}))
`;

type Op = [string, ...Array<string | number | boolean>];

interface OpResult {
  ok?: unknown;
  error?: string;
}

interface DriverOutput {
  welcome: string;
  login: string;
  quit: string;
  sent: string[];
  results: OpResult[];
}

/** Runs the operations in one ftplib session (results are checked by the caller). */
async function ftplib(context: InteropContext, mode: FtplibMode, ops: Op[], user: string | null = USER): Promise<DriverOutput> {
  const config = { host: context.server.host, port: context.server.port, user, password: PASSWORD, passive: mode.passive, ops };
  const output = await runPythonDriver<DriverOutput>('python3 ftplib driver', DRIVER, config, { cwd: context.local, env: context.env });
  assert.equal(output.results.length, ops.length);
  assert.match(output.welcome, /^220 /);
  assert.match(output.login, /^230 /);
  assert.match(output.quit, /^221 /);
  // Every data connection was set up in the requested mode, and only that way.
  const dataCommands = output.sent.filter((line) => /^(EPSV|PASV|EPRT|PORT)\b/.test(line));
  for (const line of dataCommands) assert.match(line, mode.command, `ftplib sent ${line} in ${mode.name}`);
  return output;
}

function parseListNames(lines: string[]): string[] {
  return [...parseListLines(lines.join('\n')).keys()].sort();
}

/** The result of each op, failing with the ftplib error text when one did not succeed. */
function okResults(output: DriverOutput, ops: Op[]): unknown[] {
  return output.results.map((result, i) => {
    if (result.error !== undefined) assert.fail(`${JSON.stringify(ops[i])} failed: ${result.error}\nsent: ${output.sent.join(' | ')}`);
    return result.ok;
  });
}

describe('Python ftplib', { skip: SKIP_PYTHON }, () => {
  for (const mode of FTPLIB_MODES) {
    describe(mode.name, () => {
      test('retrbinary and storbinary are byte-exact', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
          writeFileSync(join(server.root, 'random.bin'), randomData());
          const ops: Op[] = [
            ['retr', 'all-bytes.bin', join(local, 'all-bytes.bin')],
            ['retr', 'random.bin', join(local, 'random.bin')],
            ['stor', join(local, 'all-bytes.bin'), 'up-all-bytes.bin'],
            ['stor', join(local, 'random.bin'), 'up-random.bin'],
          ];
          const output = await ftplib(context, mode, ops);
          const results = okResults(output, ops);
          for (const reply of results) assert.match(String(reply), /^226 /);
          assert.equal(output.sent.filter((line) => mode.command.test(line)).length, 4);
          assert.equal(output.sent.filter((line) => line === 'TYPE I').length, 4);

          assert.equal(sha256File(join(local, 'all-bytes.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(local, 'random.bin')), sha256(randomData()));
          assert.equal(sha256File(join(server.root, 'up-all-bytes.bin')), sha256(ALL_BYTES));
          assert.equal(sha256File(join(server.root, 'up-random.bin')), sha256(randomData()));
          assert.deepEqual(readdirSync(server.root).sort(), ['all-bytes.bin', 'random.bin', 'up-all-bytes.bin', 'up-random.bin']);
        }));

      test('nlst, mlsd, dir and size report the right names, types and sizes', () =>
        withServer({}, async (context) => {
          const { server } = context;
          writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
          writeFileSync(join(server.root, 'random.bin'), randomData());
          writeFileSync(join(server.root, SPACED_NAME), 'spaces\n');
          writeFileSync(join(server.root, CJK_NAME), '中文\n');
          mkdirSync(join(server.root, 'sub dir'));
          writeFileSync(join(server.root, 'sub dir', 'inner.txt'), 'inner');
          const ops: Op[] = [
            ['nlst'],
            ['mlsd'],
            ['dir'],
            ['size', 'random.bin'],
            ['size', CJK_NAME],
            ['nlst', 'sub dir'],
            ['mlsd', 'sub dir'],
            ['size', 'missing.bin'],
            ['size', 'sub dir'],
            ['nlst', '*.bin'],
            ['dir', '*.txt'],
          ];
          const output = await ftplib(context, mode, ops);
          const r = output.results;
          const expected = new Map<string, { type: string; size?: number }>([
            ['all-bytes.bin', { type: 'file', size: ALL_BYTES.length }],
            ['random.bin', { type: 'file', size: randomData().length }],
            [SPACED_NAME, { type: 'file', size: 7 }],
            [CJK_NAME, { type: 'file', size: Buffer.byteLength('中文\n') }],
            ['sub dir', { type: 'dir' }],
          ]);
          const names = [...expected.keys()].sort();

          assert.deepEqual(r[0]?.ok, names);

          const mlsd = r[1]?.ok as Array<[string, Record<string, string>]>;
          assert.deepEqual(mlsd.map(([name]) => name), names);
          for (const [name, facts] of mlsd) {
            const want = expected.get(name)!;
            assert.equal(facts.type, want.type, `type fact of ${name}`);
            if (want.size !== undefined) assert.equal(facts.size, String(want.size), `size fact of ${name}`);
            assert.match(facts.modify ?? '', /^\d{14}$/, `modify fact of ${name}`);
            assert.ok(facts.perm !== undefined, `perm fact of ${name}`);
          }

          const lines = r[2]?.ok as string[];
          assert.equal(lines.length, expected.size);
          for (const [name, want] of expected) {
            const line = lines.find((l) => l.endsWith(` ${name}`));
            assert.ok(line, `LIST shows ${name}: ${lines.join(' | ')}`);
            assert.equal(line[0], want.type === 'dir' ? 'd' : '-');
            if (want.size !== undefined) assert.match(line, new RegExp(`\\s${want.size}\\s`));
          }

          assert.equal(r[3]?.ok, randomData().length);
          assert.equal(r[4]?.ok, Buffer.byteLength('中文\n'));
          assert.deepEqual(r[5]?.ok, ['inner.txt']);
          const inner = r[6]?.ok as Array<[string, Record<string, string>]>;
          assert.equal(inner.length, 1);
          assert.equal(inner[0]![0], 'inner.txt');
          assert.deepEqual({ ...inner[0]![1], modify: 'checked' }, { type: 'file', size: '5', modify: 'checked', perm: 'adfrw', 'unix.mode': '0644' });
          assert.match(inner[0]![1].modify ?? '', /^\d{14}$/);
          assert.match(r[7]?.error ?? '', /^550 /);
          assert.match(r[8]?.error ?? '', /^550 /);
          assert.deepEqual(r[9]?.ok, ['all-bytes.bin', 'random.bin']);
          assert.deepEqual(parseListNames(r[10]?.ok as string[]), [CJK_NAME, SPACED_NAME].sort());
        }));

      test('a directory of 600 entries lists completely (nlst, mlsd)', () =>
        withServer({}, async (context) => {
          const { server } = context;
          const dir = join(server.root, 'many');
          mkdirSync(dir);
          const names: string[] = [];
          for (let i = 0; i < 600; i++) {
            const name = `file ${String(i).padStart(4, '0')} 文件.txt`;
            names.push(name);
            writeFileSync(join(dir, name), 'x'.repeat(i));
          }
          const ops: Op[] = [['nlst', 'many'], ['mlsd', 'many']];
          const output = await ftplib(context, mode, ops);
          const [nlst, mlsd] = okResults(output, ops) as [string[], Array<[string, Record<string, string>]>];
          assert.deepEqual(nlst, [...names].sort());
          assert.equal(mlsd.length, names.length);
          for (const [name, facts] of mlsd) assert.equal(facts.size, String(Number(name.slice(5, 9))), name);
        }));

      test('pwd, cwd, mkd, rmd, rename and delete', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          const source = join(local, 'all-bytes.bin');
          writeFileSync(source, ALL_BYTES);
          const ops: Op[] = [
            ['pwd'], // 0
            ['mkd', 'new dir'], // 1
            ['cwd', 'new dir'], // 2
            ['pwd'], // 3
            ['mkd', 'nested'], // 4
            ['stor', source, 'file.bin'], // 5
            ['size', 'file.bin'], // 6
            ['rename', 'file.bin', 'nested/renamed.bin'], // 7
            ['nlst', 'nested'], // 8
            ['cwd', '..'], // 9
            ['pwd'], // 10
            ['rmd', 'new dir'], // 11: not empty
            ['delete', 'new dir/nested/renamed.bin'], // 12
            ['delete', 'new dir/nested/renamed.bin'], // 13: already gone
            ['rmd', 'new dir/nested'], // 14
            ['rmd', 'new dir'], // 15
            ['cwd', 'new dir'], // 16: gone
            ['rename', 'missing', 'x'], // 17
            ['mkd', '/abs'], // 18
            ['sendcmd', 'CDUP'], // 19
            ['mkd', 'say "hi"'], // 20: 257 reply doubles the quotes
            ['cwd', 'say "hi"'], // 21
            ['pwd'], // 22
            ['cwd', '/'], // 23
            ['rmd', 'say "hi"'], // 24
          ];
          const output = await ftplib(context, mode, ops);
          const r = output.results;
          assert.equal(r[0]?.ok, '/');
          assert.equal(r[1]?.ok, '/new dir');
          assert.match(String(r[2]?.ok), /^250 /);
          assert.equal(r[3]?.ok, '/new dir');
          assert.equal(r[4]?.ok, '/new dir/nested');
          assert.match(String(r[5]?.ok), /^226 /);
          assert.equal(r[6]?.ok, ALL_BYTES.length);
          assert.match(String(r[7]?.ok), /^250 /);
          assert.deepEqual(r[8]?.ok, ['renamed.bin']);
          assert.match(String(r[9]?.ok), /^250 /);
          assert.equal(r[10]?.ok, '/');
          assert.match(r[11]?.error ?? '', /^550 /, 'RMD of a non-empty folder fails');
          assert.match(String(r[12]?.ok), /^250 /);
          assert.match(r[13]?.error ?? '', /^550 /);
          assert.match(String(r[14]?.ok), /^250 /);
          assert.match(String(r[15]?.ok), /^250 /);
          assert.match(r[16]?.error ?? '', /^550 /);
          assert.match(r[17]?.error ?? '', /^550 /);
          assert.equal(r[18]?.ok, '/abs');
          assert.match(String(r[19]?.ok), /^250 /);
          assert.equal(r[20]?.ok, '/say "hi"');
          assert.match(String(r[21]?.ok), /^250 /);
          assert.equal(r[22]?.ok, '/say "hi"');
          assert.match(String(r[24]?.ok), /^250 /);
          assert.ok(output.sent.includes('MKD say "hi"'));
          assert.deepEqual(treeHashes(server.root), { abs: 'dir' });
        }));

      test('retrbinary with rest= resumes a download', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          const data = randomData();
          writeFileSync(join(server.root, 'random.bin'), data);
          writeFileSync(join(server.root, 'all-bytes.bin'), ALL_BYTES);
          const offset = 2_000_003;
          writeFileSync(join(local, 'random.bin'), data.subarray(0, offset));
          writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES.subarray(0, 255));
          const ops: Op[] = [
            ['retr', 'random.bin', join(local, 'random.bin'), offset],
            ['retr', 'all-bytes.bin', join(local, 'all-bytes.bin'), 255],
            ['retr', 'all-bytes.bin', join(local, 'beyond.bin'), ALL_BYTES.length + 1],
            ['retr', 'all-bytes.bin', join(local, 'at-end.bin'), ALL_BYTES.length],
          ];
          const output = await ftplib(context, mode, ops);
          assert.match(String(output.results[0]?.ok), /^226 /, JSON.stringify(output.results[0]));
          assert.match(String(output.results[1]?.ok), /^226 /, JSON.stringify(output.results[1]));
          assert.match(output.results[2]?.error ?? '', /^554 /, 'REST beyond the end of the file');
          assert.match(String(output.results[3]?.ok), /^226 /, 'REST at the end of the file sends nothing');
          assert.equal(readFileSync(join(local, 'at-end.bin')).length, 0);
          assert.ok(output.sent.includes(`REST ${offset}`));
          assert.ok(output.sent.includes('REST 255'));
          assert.equal(sha256File(join(local, 'random.bin')), sha256(data));
          assert.equal(sha256File(join(local, 'all-bytes.bin')), sha256(ALL_BYTES));
        }));

      const abortCases = [
        { how: 'a plain ABOR command (as curl sends it)', urgent: 'none', skip: false },
        {
          how: 'FTP.abort() (ABOR sent as TCP urgent data)',
          urgent: 'abort',
          skip: false,
        },
        {
          how: 'Telnet IP + Synch before ABOR (as lftp and BSD ftp send it)',
          urgent: 'synch',
          skip: false,
        },
      ] as const;
      for (const { how, urgent, skip } of abortCases) {
        test(`aborting a download with ${how} keeps the session in step`, { skip }, () =>
          withServer({}, async (context) => {
            const { server, local } = context;
            // Larger than loopback socket buffers, so the transfer is still running at ABOR.
            const data = Buffer.concat([randomData(), randomData(), randomData(), randomData(), randomData(), randomData()]);
            writeFileSync(join(server.root, 'big.bin'), data);
            const ops: Op[] = [
              ['abort_retr', 'big.bin', urgent],
              ['pwd'],
              ['retr', 'big.bin', join(local, 'big.bin')],
            ];
            const output = await ftplib(context, mode, ops);
            const [abort, pwd, retr] = okResults(output, ops) as [{ received: number; replies: string[] }, string, string];
            assert.ok(abort.received > 0);
            const codes = abort.replies.map((reply) => reply.slice(0, 3));
            // 426 (transfer aborted) then 226 (ABOR done), or 226 (already sent) then 225 (nothing to abort).
            assert.ok(['426', '226', '225'].includes(codes[0]!), `first reply after ABOR: ${abort.replies.join(' | ')}`);
            assert.equal(abort.replies.at(-1), '200 NOOP ok.', `replies: ${abort.replies.join(' | ')}`);
            assert.ok(codes.length === 3 && ['226', '225'].includes(codes[1]!), `exactly one more reply for ABOR: ${abort.replies.join(' | ')}`);
            assert.equal(pwd, '/');
            assert.match(retr, /^226 /);
            assert.equal(sha256File(join(local, 'big.bin')), sha256(data));
            assert.deepEqual(readdirSync(server.root), ['big.bin']);
          }));
      }

      test('storlines and retrlines in ASCII mode: LF on disk, CRLF on the wire', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          // Long enough (about 2 MB) that CRLF pairs straddle chunk boundaries on the way.
          const lines: string[] = [];
          for (let i = 0; i < 40_000; i++) lines.push(i % 7 === 0 ? '' : `line ${i}: ${'x'.repeat(i % 97)} — ünïcødé 中文`);
          const text = lines.join('\n') + '\n';
          const wire = text.replace(/\n/g, '\r\n');
          writeFileSync(join(local, 'lf.txt'), text);
          writeFileSync(join(local, 'crlf.txt'), wire);
          writeFileSync(join(server.root, 'server.txt'), text);
          const ops: Op[] = [
            ['storlines', join(local, 'lf.txt'), 'from-lf.txt'],
            ['storlines', join(local, 'crlf.txt'), 'from-crlf.txt'],
            ['retrlines', 'server.txt'],
            ['retr_ascii_raw', 'server.txt'],
            ['retr', 'from-lf.txt', join(local, 'binary-copy.txt')],
          ];
          const output = await ftplib(context, mode, ops);
          const r = okResults(output, ops);
          assert.ok(output.sent.includes('TYPE A'));
          assert.match(String(r[0]), /^226 /);
          assert.match(String(r[1]), /^226 /);

          for (const name of ['from-lf.txt', 'from-crlf.txt']) {
            const stored = readFileSync(join(server.root, name));
            assert.equal(stored.indexOf(0x0d), -1, `${name} on disk has no CR`);
            assert.equal(sha256(stored), sha256(text), `${name} on disk is the LF text`);
          }

          const retrieved = r[2] as { resp: string; lines: string[] };
          assert.match(retrieved.resp, /^226 /);
          assert.deepEqual(retrieved.lines, lines);

          const raw = r[3] as { resp: string; base64: string };
          assert.match(raw.resp, /^226 /);
          assert.equal(sha256(Buffer.from(raw.base64, 'base64')), sha256(wire), 'TYPE A sends CRLF line ends');

          // In TYPE I the file comes back exactly as stored.
          assert.equal(sha256File(join(local, 'binary-copy.txt')), sha256(text));
        }));

      test('UTF-8 names round-trip', () =>
        withServer({}, async (context) => {
          const { server, local } = context;
          writeFileSync(join(local, 'source.bin'), ALL_BYTES);
          writeFileSync(join(server.root, CJK_NAME), randomData());
          const ops: Op[] = [
            ['stor', join(local, 'source.bin'), `上传 ${SPACED_NAME}`],
            ['mkd', '目录 ü'],
            ['rename', `上传 ${SPACED_NAME}`, `目录 ü/改名.bin`],
            ['retr', CJK_NAME, join(local, CJK_NAME)],
            ['nlst'],
            ['nlst', '目录 ü'],
            ['size', `目录 ü/改名.bin`],
            ['mlsd', '目录 ü'],
          ];
          const output = await ftplib(context, mode, ops);
          const r = okResults(output, ops);
          assert.equal(r[1], '/目录 ü');
          assert.deepEqual(r[4], [CJK_NAME, '目录 ü'].sort());
          assert.deepEqual(r[5], ['改名.bin']);
          assert.equal(r[6], ALL_BYTES.length);
          assert.deepEqual((r[7] as Array<[string, unknown]>).map(([name]) => name), ['改名.bin']);
          assert.equal(sha256File(join(local, CJK_NAME)), sha256(randomData()));
          assert.deepEqual(treeHashes(server.root), {
            [CJK_NAME]: sha256(randomData()),
            '目录 ü': 'dir',
            '目录 ü/改名.bin': sha256(ALL_BYTES),
          });
          assert.ok(!existsSync(join(server.root, `上传 ${SPACED_NAME}`)));
        }));
    });
  }

  test('anonymous login with FTP.login() defaults is read-only and jailed', () =>
    withServer({ anonymous: { enabled: true } }, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.anonymousRoot, 'pub.bin'), ALL_BYTES);
      writeFileSync(join(server.root, 'private.bin'), 'private');
      writeFileSync(join(local, 'up.bin'), 'upload');
      const ops: Op[] = [
        ['nlst'],
        ['retr', 'pub.bin', join(local, 'pub.bin')],
        ['stor', join(local, 'up.bin'), 'up.bin'],
        ['mkd', 'dir'],
        ['retr', '../root/private.bin', join(local, 'private.bin')],
      ];
      const output = await ftplib(context, FTPLIB_MODES[0]!, ops, null);
      assert.ok(output.sent.includes('USER anonymous'));
      const r = output.results;
      assert.deepEqual(r[0]?.ok, ['pub.bin']);
      assert.match(String(r[1]?.ok), /^226 /);
      assert.equal(sha256File(join(local, 'pub.bin')), sha256(ALL_BYTES));
      assert.equal(r[2]?.error, '550 Permission denied.');
      assert.equal(r[3]?.error, '550 Permission denied.');
      assert.match(r[4]?.error ?? '', /^550 /);
      assert.deepEqual(treeHashes(server.anonymousRoot), { 'pub.bin': sha256(ALL_BYTES) });
    }));

  test('the read-only user cannot store, delete, rename or make folders (ftplib)', () =>
    withServer({}, async (context) => {
      const { server, local } = context;
      writeFileSync(join(server.root, 'data.bin'), ALL_BYTES);
      writeFileSync(join(local, 'data.bin'), 'replacement');
      const ops: Op[] = [
        ['retr', 'data.bin', join(local, 'copy.bin')],
        ['stor', join(local, 'data.bin'), 'data.bin'],
        ['stor', join(local, 'data.bin'), 'new.bin'],
        ['delete', 'data.bin'],
        ['rename', 'data.bin', 'x.bin'],
        ['mkd', 'dir'],
      ];
      const output = await ftplib(context, FTPLIB_MODES[0]!, ops, 'bob');
      const r = output.results;
      assert.match(String(r[0]?.ok), /^226 /);
      for (let i = 1; i < ops.length; i++) assert.equal(r[i]?.error, '550 Permission denied.', JSON.stringify(ops[i]));
      assert.equal(sha256File(join(local, 'copy.bin')), sha256(ALL_BYTES));
      assert.deepEqual(treeHashes(server.root), { 'data.bin': sha256(ALL_BYTES) });
    }));
});

const SKIP_IPV6 = SKIP_PYTHON || ((await ipv6LoopbackAvailable()) ? false : 'this host cannot listen on the IPv6 loopback address ::1');

describe('Python ftplib over IPv6', { skip: SKIP_IPV6 }, () => {
  const ipv6Modes: readonly FtplibMode[] = [
    { name: 'passive (EPSV)', passive: true, command: /^EPSV$/ },
    { name: 'active (EPRT)', passive: false, command: /^EPRT \|2\|::1\|\d+\|$/ },
  ];
  for (const mode of ipv6Modes) {
    test(`retrbinary, storbinary and mlsd over [::1], ${mode.name}`, () =>
      withServer({ host: '::1' }, async (context) => {
        const { server, local } = context;
        assert.equal(server.host, '::1');
        writeFileSync(join(server.root, 'random.bin'), randomData());
        writeFileSync(join(local, 'all-bytes.bin'), ALL_BYTES);
        const ops: Op[] = [
          ['retr', 'random.bin', join(local, 'random.bin')],
          ['stor', join(local, 'all-bytes.bin'), CJK_NAME],
          ['mlsd'],
        ];
        const output = await ftplib(context, mode, ops);
        const r = okResults(output, ops);
        assert.equal(output.sent.filter((line) => mode.command.test(line)).length, 3);
        assert.equal(sha256File(join(local, 'random.bin')), sha256(randomData()));
        assert.equal(sha256File(join(server.root, CJK_NAME)), sha256(ALL_BYTES));
        assert.deepEqual(
          (r[2] as Array<[string, Record<string, string>]>).map(([name, facts]) => [name, facts.size]),
          [
            ['random.bin', String(randomData().length)],
            [CJK_NAME, String(ALL_BYTES.length)],
          ].sort(),
        );
      }));
  }
});
