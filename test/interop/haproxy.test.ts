/**
 * Ferry behind a real HAProxy (TCP mode, send-proxy-v2 on the control port and on the
 * passive range): curl, connecting from 127.0.0.3 to HAProxy on 127.0.0.2, downloads and
 * uploads in PASV and EPSV mode; the 227 names HAProxy's address (the one the PROXY header
 * says the client reached); the server sees and logs the client's own address, not
 * HAProxy's, and the passive theft check passes on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeConfig } from '../../src/config/load.js';
import { runCurl } from '../helpers/curl.js';
import { randomData, sha256 } from '../helpers/data.js';
import { HAPROXY, startHaproxy } from '../helpers/haproxy.js';
import { skipUnlessInstalled } from '../helpers/run-process.js';
import { ServerLog } from '../helpers/server-log.js';
import { withTestServer } from '../helpers/server.js';
import { findFreePortRange } from '../integration/support.js';

const CLIENT_ADDRESS = '127.0.0.3';
const PUBLIC_ADDRESS = '127.0.0.2';

test('curl through HAProxy with PROXY v2: byte-exact transfers, and the server sees the client, not the proxy', { skip: HAPROXY ? skipUnlessInstalled('curl') : 'haproxy is not installed (apt-get install haproxy)' }, async () => {
  // The same passive ports on both sides: HAProxy forwards each to the same port on Ferry.
  const range = await findFreePortRange(6, ['127.0.0.1', PUBLIC_ADDRESS]);
  const control = await findFreePortRange(1, PUBLIC_ADDRESS);
  const log = new ServerLog();
  const config = mergeConfig({ log: { level: 'info' } }, { proxy_protocol: { trusted: ['127.0.0.1/32'] }, passive: { ports: range.spec } });
  await withTestServer(config, async (server) => {
    const haproxy = await startHaproxy({ dir: server.scratch, address: PUBLIC_ADDRESS, port: control.min, nodes: [{ host: server.host, port: server.port, passive: range }] });
    try {
      const content = randomData().subarray(0, 700_000);
      writeFileSync(join(server.root, 'down.bin'), content);
      writeFileSync(join(server.scratch, 'up.bin'), content);
      const base = `ftp://${PUBLIC_ADDRESS}:${haproxy.port}`;
      for (const mode of [['--disable-epsv'], ['--ftp-pasv']]) {
        const out = join(server.scratch, `down-${mode[0]}.bin`);
        const get = await runCurl(['--interface', CLIENT_ADDRESS, ...mode, '--output', out, `${base}/down.bin`]);
        assert.equal(get.code, 0, get.stderr);
        assert.equal(readFileSync(out).length, content.length, 'download length');
        assert.equal(sha256(readFileSync(out)), sha256(content));
        const put = await runCurl(['--interface', CLIENT_ADDRESS, ...mode, '--upload-file', join(server.scratch, 'up.bin'), `${base}/up-${mode[0]}.bin`]);
        assert.equal(put.code, 0, put.stderr);
        assert.equal(readFileSync(join(server.root, `up-${mode[0]}.bin`)).length, content.length, 'upload length');
        assert.equal(sha256(readFileSync(join(server.root, `up-${mode[0]}.bin`))), sha256(content));
        if (mode[0] === '--disable-epsv') {
          const pasv = get.received.find((line) => line.startsWith('227 '));
          assert.match(pasv ?? '', /\(127,0,0,2,\d+,\d+\)/, 'the 227 names the address the client reached (HAProxy)');
        }
      }
      const logins = log.entries.filter((entry) => entry.msg === 'logged in');
      assert.ok(logins.length >= 4, JSON.stringify(logins));
      for (const entry of logins) assert.ok(String(entry.remote).startsWith(`${CLIENT_ADDRESS}:`), `logged as ${entry.remote}, not the client`);
      assert.equal(log.entries.filter((entry) => entry.msg === 'refused a passive data connection from a foreign address').length, 0);
    } finally {
      await haproxy.stop();
    }
  }, { logTo: log.destination });
});

