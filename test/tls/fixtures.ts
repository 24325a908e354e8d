/**
 * Shared pieces of the FTPS tests (the generic ones live in test/helpers/):
 *
 * - `startTlsServer()` / `withTlsServer()`: test/helpers/server.ts's server with TLS on
 *   by default (its own copy of the shared certificate, implicit FTPS port, a short
 *   TLS handshake timeout);
 * - `FtpsClient`: the raw FtpConnection with FTPS defaults: PROT P data connections
 *   resume the control connection's TLS session unless told otherwise, and a broken
 *   data connection is reported (`dataError`) instead of thrown;
 * - curl, lftp and wget set up for FTPS against the self-signed test certificate;
 * - `assertFtpsDialogue()`: a client's control dialogue was explicit or implicit FTPS;
 * - `withLoggedTlsServer()` and `assertDataConnectionsResumed()`: the server's own
 *   proof that a client's data connections all resumed their control connection's TLS
 *   session, and of the TLS version;
 * - a recording TCP proxy that captures every control-connection byte both ways.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { mergeConfig } from '../../src/config/load.js';
import { runCurl, type CurlOptions, type CurlRun } from '../helpers/curl.js';
import { FtpConnection, type DataTls } from '../helpers/ftp-connection.js';
import { runLftp, type LftpOptions } from '../helpers/lftp.js';
import type { DialogueRun } from '../helpers/run-process.js';
import { PASSWORD, USER, startServer, withTestServer, type ServerOptions, type TestServer } from '../helpers/server.js';
import { ServerLog } from '../helpers/server-log.js';
import { runWget, type WgetOptions, type WgetRun } from '../helpers/wget.js';

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

export type TlsTestServer = TestServer;

export interface StartOptions {
  /** False: no certificate at all (TLS is off). Default true. */
  tls?: boolean;
  /** Extra users (password "secret"), e.g. `{ carol: { tls: 'required' } }`. */
  users?: ServerOptions['users'];
  /** Where the server's JSON log lines go instead of stderr. */
  logTo?: ServerOptions['logTo'];
}

/** The server's options and config for `startTlsServer`: TLS on unless `tls: false`. */
function tlsSetup(overrides: Record<string, unknown>, options: StartOptions): [Record<string, unknown>, ServerOptions] {
  const tls = options.tls !== false;
  return [tls ? mergeConfig({ tls: { handshake_timeout: 3 } }, overrides) : overrides, { tls, users: options.users, logTo: options.logTo }];
}

/**
 * Starts Ferry in-process on 127.0.0.1 with OS-chosen ports (control, implicit FTPS and
 * passive), users alice (read-write) and bob (read-only), password "secret", and by
 * default a certificate (so tls.mode defaults to "required"). `overrides` are config
 * keys merged over these defaults.
 */
export function startTlsServer(overrides: Record<string, unknown> = {}, options: StartOptions = {}): Promise<TlsTestServer> {
  return startServer(...tlsSetup(overrides, options));
}

/** Starts a server as `startTlsServer` does, runs `fn`, then stops the server and removes its folders. */
export function withTlsServer(overrides: Record<string, unknown>, fn: (server: TlsTestServer) => Promise<void>, options: StartOptions = {}): Promise<void> {
  const [config, serverOptions] = tlsSetup(overrides, options);
  return withTestServer(config, fn, serverOptions);
}

/**
 * `withTlsServer` with the server's log at debug level kept in memory for `fn` (see
 * test/helpers/server-log.ts).
 */
export function withLoggedTlsServer(overrides: Record<string, unknown>, fn: (server: TlsTestServer, log: ServerLog) => Promise<void>): Promise<void> {
  const log = new ServerLog();
  return withTlsServer(mergeConfig({ log: { level: 'debug' } }, overrides), (server) => fn(server, log), { logTo: log.destination });
}

// ---------------------------------------------------------------------------------------
// Raw FTPS client
// ---------------------------------------------------------------------------------------

export class FtpsClient extends FtpConnection {
  protected override defaultDataTls: DataTls = 'resume';
  protected override keepDataErrors = true;

  async login(user = USER, password = PASSWORD): Promise<void> {
    await this.expect(`USER ${user}`, 331);
    await this.expect(`PASS ${password}`, 230);
  }
}

/** Connect, AUTH TLS, PBSZ 0, PROT P, log in: the usual FTPS session start. */
export async function secureSession(server: { host: string; port: number }, user = USER, password = PASSWORD): Promise<FtpsClient> {
  const client = await FtpsClient.connect(server.host, server.port);
  try {
    await client.authTls();
    await client.protect('P');
    await client.login(user, password);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// curl, lftp and wget over FTPS
// ---------------------------------------------------------------------------------------

/** Upper bound for any one client run; a hung client fails its test instead of CI. */
export const CLIENT_TIMEOUT_MS = 40_000;

/** curl (see test/helpers/curl.ts) with certificate checks off (-k) and --max-time 30. */
export function runFtpsCurl(args: readonly string[], options: Omit<CurlOptions, 'insecure'>): Promise<CurlRun> {
  return runCurl(args, { timeoutMs: CLIENT_TIMEOUT_MS, ...options, insecure: true });
}

/**
 * FTPS settings for lftp: certificate checks off (self-signed test certificate), TLS
 * forced on the control and data connections.
 */
export const LFTP_FTPS_SETTINGS: readonly string[] = [
  'set ssl:verify-certificate no',
  'set ftp:ssl-force yes',
  'set ftp:ssl-protect-data yes',
  'set ftp:ssl-protect-list yes',
];

/** lftp (see test/helpers/lftp.ts) with the FTPS settings, then `options.settings`. */
export function runFtpsLftp(url: string, commands: readonly string[], options: LftpOptions): Promise<DialogueRun> {
  return runLftp(url, commands, { timeoutMs: CLIENT_TIMEOUT_MS, ...options, settings: [...LFTP_FTPS_SETTINGS, ...(options.settings ?? [])] });
}

/** wget (see test/helpers/wget.ts) with certificate checks off (--no-check-certificate). */
export function runFtpsWget(args: readonly string[], options: Omit<WgetOptions, 'insecure'>): Promise<WgetRun> {
  return runWget(args, { timeoutMs: CLIENT_TIMEOUT_MS, ...options, insecure: true });
}

// ---------------------------------------------------------------------------------------
// What a client run did, seen from the client and from the server
// ---------------------------------------------------------------------------------------

/**
 * A client's logged control dialogue was FTPS with protected data connections: explicit
 * (AUTH TLS, answered 234, before USER) or implicit (no AUTH: the first reply, the
 * banner, already came over TLS), then PBSZ 0 and PROT P.
 */
export function assertFtpsDialogue(what: string, dialogue: { sent: readonly string[]; received: readonly string[] }, explicit: boolean): void {
  const { sent, received } = dialogue;
  if (explicit) {
    const auth = sent.indexOf('AUTH TLS');
    assert.ok(auth !== -1 && auth < sent.indexOf(`USER ${USER}`), `${what}: no AUTH TLS before USER: ${sent.join(' | ')}`);
    assert.ok(received.some((line) => line.startsWith('234 ')), `${what}: ${received.join(' | ')}`);
  } else {
    assert.ok(!sent.some((line) => line.startsWith('AUTH')), `${what}: AUTH on the implicit port: ${sent.join(' | ')}`);
    assert.match(received[0] ?? '', /^220 /, `${what}: no banner over TLS`);
  }
  assert.ok(sent.includes('PBSZ 0') && sent.includes('PROT P'), `${what}: ${sent.join(' | ')}`);
}

/**
 * Every data connection of a client run resumed its control connection's TLS session,
 * and every control connection negotiated `tlsVersion` (a resumed session keeps its
 * version, so the data connections did too). The server proves it: with
 * tls.session_reuse on, a PROT P transfer completes only on a data connection that
 * resumed (any other ends in 522). `received` are the reply lines the client logged:
 * each 150 announced one data connection, and none may be a 522. `from` is the server
 * log's mark from before the run.
 */
export function assertDataConnectionsResumed(
  what: string,
  server: TlsTestServer,
  log: ServerLog,
  from: number,
  received: readonly string[],
  tlsVersion: 'TLSv1.2' | 'TLSv1.3',
): void {
  assert.equal(server.config.tls.session_reuse, true, `${what}: the server must require session reuse`);
  const versions = log.controlTlsVersions(from);
  assert.ok(versions.length > 0 && versions.every((version) => version === tlsVersion), `${what}: control connections negotiated ${versions.join(', ')}, not ${tlsVersion}`);
  const transfers = log.transfers(from);
  const described = transfers.map((t) => `${t.verb} ${t.path}: ${t.outcome}`).join('\n');
  assert.deepEqual(received.filter((line) => line.startsWith('522 ')), [], `${what}: data connection refused\n${described}`);
  const opened = received.filter((line) => line.startsWith('150 ')).length;
  assert.ok(opened > 0, `${what}: no data connection`);
  assert.equal(transfers.length, opened, `${what}: ${opened} data connections announced, the server finished:\n${described}`);
  assert.ok(transfers.every((transfer) => transfer.outcome === 'complete'), `${what}:\n${described}`);
}

// ---------------------------------------------------------------------------------------
// Recording proxy
// ---------------------------------------------------------------------------------------

export interface RecordingProxy {
  port: number;
  /** Every byte clients sent through the proxy. */
  fromClient(): Buffer;
  /** Every byte the server sent back through the proxy. */
  fromServer(): Buffer;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 to `target`: only the control connection goes through it
 * (passive data connections go straight to the server's advertised port), so the
 * capture is exactly what an eavesdropper on the control connection sees.
 */
export async function startRecordingProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => {
      up.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      down.push(chunk);
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    fromClient: () => Buffer.concat(up),
    fromServer: () => Buffer.concat(down),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
