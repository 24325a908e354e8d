/**
 * PROXY protocol on the control and passive data listeners: a trusted proxy's header
 * makes the client's real address the one the server uses (logs, STAT, limits, the
 * passive-theft check); a trusted peer without a valid header is closed unanswered; an
 * untrusted peer's header is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { mergeConfig } from '../../src/config/load.js';
import { FtpConnection } from '../helpers/ftp-connection.js';
import { proxyV1, proxyV2, type ProxiedClient } from '../helpers/proxy-header.js';
import { ServerLog } from '../helpers/server-log.js';
import { PASSWORD, USER, withTestServer, type TestServer } from '../helpers/server.js';
import { withTimeout } from '../helpers/timing.js';
import { passivePort, readAll } from './support.js';

const TRUSTED = { proxy_protocol: { trusted: ['127.0.0.1/32'] } };

function client(source: string, server: TestServer): ProxiedClient {
  return { source, sourcePort: 40123, destination: '127.0.0.1', destinationPort: server.port };
}

/** A TCP connection from `localAddress` that starts with `header`. */
async function rawConnect(port: number, header: Buffer, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(header);
  return socket;
}

/** A control connection through "the proxy": the header, then the greeting. */
async function connectProxied(server: TestServer, header: Buffer): Promise<FtpConnection> {
  const ftp = new FtpConnection(await rawConnect(server.port, header));
  ftp.greeting = await ftp.read();
  return ftp;
}

function withLoggedServer(overrides: Record<string, unknown>, fn: (server: TestServer, log: ServerLog) => Promise<void>): Promise<void> {
  const log = new ServerLog();
  return withTestServer(mergeConfig({ log: { level: 'info' } }, overrides), (server) => fn(server, log), { logTo: log.destination });
}

describe('PROXY protocol', () => {
  for (const [name, header] of [
    ['v1 TCP4', (server: TestServer) => proxyV1(client('198.51.100.7', server))],
    ['v2 TCP4', (server: TestServer) => proxyV2(client('198.51.100.7', server))],
    ['v2 TCP6', (server: TestServer) => proxyV2({ source: '2001:db8::7', sourcePort: 40123, destination: '2001:db8::1', destinationPort: server.port })],
  ] as const) {
    test(`${name}: the session is the client's: STAT and the log name the header's address`, () =>
      withLoggedServer(TRUSTED, async (server, log) => {
        const real = name === 'v2 TCP6' ? '2001:db8::7' : '198.51.100.7';
        const ftp = await connectProxied(server, header(server));
        assert.equal(ftp.greeting.code, 220);
        await ftp.expect(`USER ${USER}`, 331);
        await ftp.expect(`PASS ${PASSWORD}`, 230);
        const stat = await ftp.expect('STAT', 211);
        assert.ok(stat.lines.some((line) => line.includes(`Connected from ${real}`)), stat.lines.join('\n'));
        assert.ok(log.entries.some((entry) => entry.msg === 'logged in' && String(entry.remote).includes(real)), 'the log names the real client');
        await ftp.quit();
      }));
  }

  test('passive data through the proxy: a header naming the control connection\'s client passes the theft check; another address is refused', () =>
    withLoggedServer(TRUSTED, async (server, log) => {
      const ftp = await connectProxied(server, proxyV2(client('198.51.100.7', server)));
      await ftp.expect(`USER ${USER}`, 331);
      await ftp.expect(`PASS ${PASSWORD}`, 230);
      const port = passivePort(await ftp.expect('EPSV', 229));
      const thief = await rawConnect(port, proxyV2({ source: '198.51.100.66', sourcePort: 5555, destination: '127.0.0.1', destinationPort: port }));
      await withTimeout(readAll(thief), 3000, 'the thief being disconnected');
      assert.ok(log.entries.some((entry) => entry.msg === 'refused a passive data connection from a foreign address' && entry.address === '198.51.100.66'));
      const data = await rawConnect(port, proxyV2({ source: '198.51.100.7', sourcePort: 5556, destination: '127.0.0.1', destinationPort: port }));
      const listing = readAll(data);
      await ftp.expect('LIST', 150);
      assert.equal((await ftp.read()).code, 226);
      await listing;
      await ftp.quit();
    }));

  test('limits count the real client: max_per_ip = 1 admits two clients through one proxy, and refuses a second session of one', () =>
    withTestServer({ ...TRUSTED, max_per_ip: 1 }, async (server) => {
      const first = await connectProxied(server, proxyV1(client('198.51.100.7', server)));
      const second = await connectProxied(server, proxyV1(client('198.51.100.8', server)));
      assert.equal(first.greeting.code, 220);
      assert.equal(second.greeting.code, 220);
      const again = await connectProxied(server, proxyV1(client('198.51.100.7', server)));
      assert.equal(again.greeting.code, 421);
      await Promise.all([first.quit(), second.quit()]);
    }));

  test('a trusted peer without a valid header is closed without a greeting', () =>
    withLoggedServer(TRUSTED, async (server, log) => {
      const socket = await rawConnect(server.port, Buffer.from('USER alice\r\n'));
      const received = await withTimeout(readAll(socket), 3000, 'the connection being closed');
      assert.equal(received.length, 0, `got ${JSON.stringify(received.toString())}`);
      assert.ok(log.entries.some((entry) => entry.msg === 'connection from a trusted proxy closed: no valid PROXY header' && entry.code === 'FERRY_ERR_PROXY_HEADER'));
    }));

  test('an untrusted peer that sends a PROXY header is closed before any command runs', () =>
    withLoggedServer(TRUSTED, async (server, log) => {
      // 127.0.0.2 is not in proxy_protocol.trusted; it forges a header for 10.0.0.1.
      const socket = await rawConnect(server.port, Buffer.concat([proxyV1(client('10.0.0.1', server)), Buffer.from('USER alice\r\n')]), '127.0.0.2');
      const received = (await withTimeout(readAll(socket), 3000, 'the connection being closed')).toString();
      assert.doesNotMatch(received, /331|500/, 'no command was answered');
      assert.ok(log.entries.some((entry) => entry.msg === 'connection closed: untrusted PROXY header'));
    }));

  test('without proxy_protocol.trusted, a PROXY line is just an unknown command', () =>
    withTestServer({}, async (server) => {
      const ftp = await FtpConnection.connect(server.host, server.port);
      await ftp.expect('PROXY TCP4 10.0.0.1 127.0.0.1 1 2', 500);
      await ftp.quit();
    }));
});
