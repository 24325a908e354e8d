/**
 * Two stateless Ferry nodes sharing one bucket on a real Ceph gateway, behind a real
 * HAProxy (control connections round-robin with send-proxy-v2, each node's passive range
 * forwarded to it): what curl uploads through one node it downloads through the other,
 * byte for byte (then ftplib and lftp on the same files), and each node logs the client's
 * own address, not HAProxy's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FERRY_BIN } from '../client/support.js';
import { cephGatewayForFile } from '../helpers/ceph.js';
import { CURL, runCurl } from '../helpers/curl.js';
import { waitForReady } from '../helpers/ferry-ready.js';
import { HAPROXY, startHaproxy, type HaproxyFrontend } from '../helpers/haproxy.js';
import { LFTP, lftpQuote, runLftp } from '../helpers/lftp.js';
import { PYTHON, runPythonDriver } from '../helpers/python-driver.js';
import { describeRun, killOnExit, stopChild } from '../helpers/run-process.js';
import { scratchDirForFile } from '../helpers/scratch-dir.js';
import type { LogEntry } from '../helpers/server-log.js';
import { addUser } from '../helpers/users-file.js';
import { findFreePortRange } from '../integration/support.js';

const PASSWORD = 'multi-node-secret';
const CLIENT_ADDRESS = '127.0.0.3';
const PUBLIC_ADDRESS = '127.0.0.2';
const { gateway, skip: noGateway } = await cephGatewayForFile();
const skip = noGateway || (HAPROXY ? false : 'haproxy is not installed') || (CURL && PYTHON && LFTP ? false : 'curl, python3 and lftp are needed');
const scratch = scratchDirForFile('ferry-multi-node-');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Node {
  child: ChildProcess;
  port: number;
  log: LogEntry[];
}

describe('two Ferry nodes on one bucket behind HAProxy', { skip }, () => {
  const nodes: Node[] = [];
  let haproxy: HaproxyFrontend | undefined;

  before(async () => {
    const bucket = await gateway!.createBucket();
    const users = addUser(join(scratch(), 'users.toml'), 'alice', PASSWORD);
    const ranges = [await findFreePortRange(4, ['127.0.0.1', PUBLIC_ADDRESS]), await findFreePortRange(4, ['127.0.0.1', PUBLIC_ADDRESS])];
    for (const [index, range] of ranges.entries()) {
      // The same config on every node but its passive range: the nodes keep no state of their own.
      const config = join(scratch(), `node${index}.toml`);
      writeFileSync(
        config,
        [
          'host = "127.0.0.1"',
          'port = 0',
          `users_file = "${users}"`,
          '[passive]',
          `ports = "${range.spec}"`,
          '[proxy_protocol]',
          'trusted = ["127.0.0.1/32"]',
          '[storage]',
          'type = "s3"',
          `endpoint = "${gateway!.endpoint}"`,
          `bucket = "${bucket}"`,
          'path_style = true',
          '[log]',
          'format = "json"',
        ].join('\n'),
      );
      const child = spawn(process.execPath, [FERRY_BIN, 'serve', '--config', config], {
        cwd: scratch(),
        env: { ...process.env, AWS_ACCESS_KEY_ID: gateway!.accessKeyId, AWS_SECRET_ACCESS_KEY: gateway!.secretAccessKey, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      killOnExit(child);
      const log: LogEntry[] = [];
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (line.startsWith('{')) log.push(JSON.parse(line) as LogEntry);
      });
      const node = { child, port: 0, log };
      nodes.push(node); // before it is ready: after() stops it even when it never is
      node.port = await waitForReady(child).port;
    }
    const control = await findFreePortRange(1, PUBLIC_ADDRESS);
    haproxy = await startHaproxy({
      dir: scratch(),
      address: PUBLIC_ADDRESS,
      port: control.min,
      nodes: nodes.map((node, index) => ({ host: '127.0.0.1', port: node.port, passive: ranges[index]! })),
    });
  });

  after(async () => {
    await haproxy?.stop();
    await Promise.all(nodes.map((node) => stopChild(node.child)));
  });

  test('curl uploads through one node and downloads through the other, then ftplib and lftp: same bytes; both nodes log the client', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const local = join(scratch(), 'upload.bin');
    writeFileSync(local, data);
    const url = `ftp://${PUBLIC_ADDRESS}:${haproxy!.port}/shared.bin`;
    const user = `alice:${PASSWORD}`;
    const put = await runCurl(['--interface', CLIENT_ADDRESS, '-T', local, url], { user });
    assert.equal(put.code, 0, describeRun('curl upload', put));
    const copy = join(scratch(), 'download.bin');
    const get = await runCurl(['--interface', CLIENT_ADDRESS, '--output', copy, url], { user });
    assert.equal(get.code, 0, describeRun('curl download', get));
    assert.equal(sha256(readFileSync(copy)), sha256(data));

    const transfers = nodes.map((node) => node.log.filter((entry) => entry.msg === 'transfer' && entry.outcome === 'complete').map((entry) => entry.verb));
    assert.deepEqual(transfers.flat().sort(), ['RETR', 'STOR'], JSON.stringify(transfers));
    assert.ok(transfers.every((verbs) => verbs.length === 1), `one transfer on each node: ${JSON.stringify(transfers)}`);

    // ftplib (from the same client address) reads what curl stored, wherever it lands, and
    // stores a file lftp then reads through its next connection.
    const script = [
      'import ftplib, hashlib, json, sys',
      'cfg = json.loads(sys.argv[1])',
      'ftp = ftplib.FTP(source_address=(cfg["client"], 0), timeout=20)',
      'ftp.connect(cfg["host"], cfg["port"])',
      'ftp.login("alice", cfg["password"])',
      'chunks = []',
      'ftp.retrbinary("RETR shared.bin", chunks.append)',
      'with open(cfg["upload"], "rb") as f: ftp.storbinary("STOR from-ftplib.bin", f)',
      'ftp.quit()',
      'print(json.dumps({"sha256": hashlib.sha256(b"".join(chunks)).hexdigest()}))',
    ].join('\n');
    const fromFtplib = await runPythonDriver<{ sha256: string }>('ftplib through HAProxy', script, {
      client: CLIENT_ADDRESS, host: PUBLIC_ADDRESS, port: haproxy!.port, password: PASSWORD, upload: local,
    });
    assert.equal(fromFtplib.sha256, sha256(data));
    const lftpCopy = join(scratch(), 'from-ftplib.bin');
    const lftp = await runLftp(`ftp://${PUBLIC_ADDRESS}:${haproxy!.port}`, [`get from-ftplib.bin -o ${lftpQuote(lftpCopy)}`], {
      user: 'alice', password: PASSWORD, settings: ['set net:socket-bind-ipv4 ' + CLIENT_ADDRESS, 'set ftp:passive-mode on'], cwd: scratch(),
    });
    assert.equal(lftp.code, 0, describeRun('lftp get', lftp));
    assert.equal(sha256(readFileSync(lftpCopy)), sha256(data));
    const stores = nodes.map((node) => node.log.filter((entry) => entry.msg === 'transfer' && entry.verb === 'STOR').length);
    const retrieves = nodes.map((node) => node.log.filter((entry) => entry.msg === 'transfer' && entry.verb === 'RETR').length);
    assert.ok(stores.reduce((a, b) => a + b) === 2 && retrieves.reduce((a, b) => a + b) === 3, JSON.stringify({ stores, retrieves }));
    for (const node of nodes) {
      const logins = node.log.filter((entry) => entry.msg === 'logged in');
      assert.ok(logins.length >= 1 && logins.every((entry) => String(entry.remote).startsWith(`${CLIENT_ADDRESS}:`)), JSON.stringify(logins));
    }
  });
});
