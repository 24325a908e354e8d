/**
 * Interoperability with basic-ftp 6 (the Node.js FTP client library; node:tls) over
 * explicit FTPS (`secure: true`: AUTH TLS on the control port) and implicit FTPS
 * (`secure: 'implicit'` on the implicit port), against the default server:
 * tls.session_reuse on.
 *
 * Known fact encoded here: basic-ftp resumes the control connection's TLS session on
 * every data connection by itself, and keeps the ticket each resumed TLS 1.3 data
 * connection brings for the next one, so it works with session reuse required, for
 * TLS 1.3 and TLS 1.2 (`maxVersion: 'TLSv1.2'`), over many data connections on one
 * control connection (uploadFromDir/downloadToDir).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'basic-ftp';
import { ALL_BYTES, randomData, sha256, sha256File, treeHashes, writeTestTree } from '../helpers/data.js';
import { PASSWORD, USER } from '../helpers/server.js';
import type { ServerLog } from '../helpers/server-log.js';
import { assertDataConnectionsResumed, assertFtpsDialogue, withLoggedTlsServer, type TlsTestServer } from './fixtures.js';

interface Mode {
  name: string;
  secure: true | 'implicit';
  port(server: TlsTestServer): number;
}

const EXPLICIT: Mode = { name: 'explicit FTPS (secure: true)', secure: true, port: (server) => server.port };
const IMPLICIT: Mode = { name: "implicit FTPS (secure: 'implicit')", secure: 'implicit', port: (server) => server.implicitPort! };

type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Upper bound for one reply or data connection (basic-ftp's own timeout). */
const REPLY_TIMEOUT_MS = 10_000;

/** The control dialogue basic-ftp logged: its commands and every reply line. */
interface Dialogue {
  sent: string[];
  received: string[];
  /** basic-ftp's "Downloading from ... (TLSv1.3)" / "Uploading to ..." lines, one per data connection. */
  dataConnections: string[];
}

/**
 * Runs `fn` with a basic-ftp client logged in over `mode` at `tlsVersion` (the highest
 * TLS version it may offer), then checks what the client logged and what the server
 * saw: FTPS as `mode` says, protected data connections, each at `tlsVersion` and each
 * resuming the control connection's session. The client is closed whatever happens.
 */
async function withClient(
  server: TlsTestServer,
  log: ServerLog,
  mode: Mode,
  tlsVersion: TlsVersion,
  fn: (client: Client) => Promise<void>,
): Promise<void> {
  const what = `basic-ftp (${mode.name}, ${tlsVersion})`;
  const dialogue: Dialogue = { sent: [], received: [], dataConnections: [] };
  const client = new Client(REPLY_TIMEOUT_MS);
  // What `verbose = true` would print to the console (every log call goes through `log`) goes to the dialogue.
  client.ftp.log = (message: string) => {
    if (message.startsWith('> ')) dialogue.sent.push(message.slice(2));
    else if (message.startsWith('< ')) dialogue.received.push(...message.slice(2).split(/\r?\n/).filter(Boolean));
    else if (/^(Downloading from|Uploading to) /.test(message)) dialogue.dataConnections.push(message);
  };
  const from = log.mark();
  try {
    await client.access({
      host: server.host,
      port: mode.port(server),
      user: USER,
      password: PASSWORD,
      secure: mode.secure,
      secureOptions: { rejectUnauthorized: false, maxVersion: tlsVersion },
    });
    await fn(client);
  } finally {
    client.close();
  }
  assertFtpsDialogue(what, dialogue, mode.secure === true);
  const opened = dialogue.received.filter((line) => line.startsWith('150 ')).length;
  assert.equal(dialogue.dataConnections.length, opened, `${what}: ${dialogue.dataConnections.join(' | ')}`);
  for (const line of dialogue.dataConnections) assert.ok(line.endsWith(`(${tlsVersion})`), `${what}: ${line}`);
  assertDataConnectionsResumed(what, server, log, from, dialogue.received, tlsVersion);
}

const VARIANTS: readonly [Mode, TlsVersion][] = [
  [EXPLICIT, 'TLSv1.3'],
  [IMPLICIT, 'TLSv1.3'],
  [EXPLICIT, 'TLSv1.2'],
];

describe('basic-ftp FTPS (default server: session_reuse on)', () => {
  for (const [mode, tlsVersion] of VARIANTS) {
    describe(`${mode.name}, ${tlsVersion}`, () => {
      test('uploadFrom, downloadTo, list: all 256 byte values, 5 MiB random and a text file, byte-exact', () =>
        withLoggedTlsServer({}, async (server, log) => {
          const local = join(server.scratch, 'local');
          mkdirSync(local);
          const files: Record<string, Buffer> = { 'all-bytes.bin': ALL_BYTES, 'random.bin': randomData(), 'notes.txt': Buffer.from('line 1\r\nline 2\n') };
          for (const [name, content] of Object.entries(files)) writeFileSync(join(local, name), content);
          await withClient(server, log, mode, tlsVersion, async (client) => {
            for (const name of Object.keys(files)) await client.uploadFrom(join(local, name), `up-${name}`);
            for (const name of Object.keys(files)) await client.downloadTo(join(local, `got-${name}`), `up-${name}`);
            const listing = await client.list();
            assert.deepEqual(
              listing.map((entry) => [entry.name, entry.size, entry.isFile]).sort(),
              Object.entries(files)
                .map(([name, content]) => [`up-${name}`, content.length, true])
                .sort(),
            );
          });
          for (const [name, content] of Object.entries(files)) {
            assert.equal(sha256File(join(server.root, `up-${name}`)), sha256(content), `uploaded ${name}`);
            assert.equal(sha256File(join(local, `got-${name}`)), sha256(content), `downloaded ${name}`);
          }
        }));

      test('ensureDir, uploadFromDir, downloadToDir: identical trees (many data connections, one control connection)', () =>
        withLoggedTlsServer({}, async (server, log) => {
          const source = join(server.scratch, 'source');
          const back = join(server.scratch, 'back');
          writeTestTree(source);
          await withClient(server, log, mode, tlsVersion, async (client) => {
            await client.ensureDir('/tree/copy');
            await client.uploadFromDir(source);
            await client.downloadToDir(back, '/tree/copy');
          });
          const expected = treeHashes(source);
          assert.deepEqual(treeHashes(join(server.root, 'tree', 'copy')), expected);
          assert.deepEqual(treeHashes(back), expected);
        }));
    });
  }
});
