/**
 * [hooks] from a real server and client: a URL hook receives JSON for an upload (after
 * its commit: the file is on disk with its full hash), a download, a login and a logout;
 * a command hook (argv, no shell) gets FERRY_* values, with a file name full of shell
 * metacharacters arriving literally and nothing executed. File operations (MKD, RNFR/RNTO,
 * DELE, RMD) fire after they succeed, and only then.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/timing.js';
import { login } from './support.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('hooks', () => {
  const received: { body: Record<string, unknown>; onDisk: string | null }[] = [];
  let root = '';
  const receiver = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    const file = typeof body.path === 'string' ? join(root, body.path) : null;
    received.push({ body, onDisk: file && existsSync(file) ? sha(readFileSync(file)) : null });
    response.end('ok');
  });
  after(() => receiver.close());
  async function hookUrl(): Promise<string> {
    if (!receiver.listening) {
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
    }
    return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  }

  test('a URL hook gets upload (after commit), download, login and logout', async () => {
    const url = await hookUrl();
    const server = await startServer({ hooks: { actions: [{ events: ['upload', 'download', 'login', 'logout'], url }] } });
    root = server.root;
    try {
      const data = Buffer.alloc(3 * 1024 * 1024, 7);
      const ftp = await login(server);
      assert.equal((await ftp.upload('STOR /big.bin', data)).final.code, 226);
      assert.equal((await ftp.download('RETR /big.bin')).final.code, 226);
      await ftp.expect('QUIT', 221);
      await waitFor(() => received.length >= 4);
      const byEvent = new Map(received.map((entry) => [entry.body.event, entry]));
      assert.deepEqual([...byEvent.keys()].sort(), ['download', 'login', 'logout', 'upload']);
      assert.equal(byEvent.get('upload')!.onDisk, sha(data));
      assert.equal(byEvent.get('upload')!.body.bytes, data.length);
      assert.equal(byEvent.get('login')!.body.user, 'alice');
    } finally {
      await server.stop();
    }
  });

  test('a URL hook gets mkdir, rename (with from), delete and rmdir; a refused DELE fires nothing', async () => {
    received.length = 0;
    const server = await startServer({ hooks: { actions: [{ events: ['delete', 'rename', 'mkdir', 'rmdir'], url: await hookUrl() }] } });
    try {
      const ftp = await login(server);
      await ftp.expect('DELE /missing.txt', 550);
      await ftp.expect('MKD /d', 257);
      assert.equal((await ftp.upload('STOR /d/a.txt', Buffer.from('a'))).final.code, 226);
      await ftp.expect('RNFR /d/a.txt', 350);
      await ftp.expect('RNTO /d/b.txt', 250);
      await ftp.expect('DELE /d/b.txt', 250);
      await ftp.expect('RMD /d', 250);
      await ftp.expect('QUIT', 221);
      await waitFor(() => received.length >= 4);
      const seen = received.map(({ body }) => ({ event: body.event, path: body.path, from: body.from, user: body.user, status: body.status }));
      // Hooks run concurrently, so deliveries may come in any order.
      seen.sort((a, b) => String(a.event).localeCompare(String(b.event)));
      assert.deepEqual(seen, [
        { event: 'delete', path: '/d/b.txt', from: undefined, user: 'alice', status: 'success' },
        { event: 'mkdir', path: '/d', from: undefined, user: 'alice', status: 'success' },
        { event: 'rename', path: '/d/b.txt', from: '/d/a.txt', user: 'alice', status: 'success' },
        { event: 'rmdir', path: '/d', from: undefined, user: 'alice', status: 'success' },
      ]);
    } finally {
      await server.stop();
    }
  });

  test('a command hook gets FERRY_* literally, no shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-hooks-'));
    const script = join(dir, 'hook.mjs');
    const out = join(dir, 'env.json');
    writeFileSync(script, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env));`);
    const hooked = await startServer({ hooks: { actions: [{ events: ['upload'], command: [process.execPath, script] }] } });
    try {
      const name = '$(touch pwned);`touch pwned2` x.txt';
      const ftp = await login(hooked);
      assert.equal((await ftp.upload(`STOR /${name}`, Buffer.from('hi'))).final.code, 226);
      await waitFor(() => existsSync(out));
      await waitFor(() => readFileSync(out, 'utf8').length > 0);
      const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
      assert.equal(env.FERRY_EVENT, 'upload');
      assert.equal(env.FERRY_PATH, `/${name}`);
      assert.equal(env.FERRY_USER, 'alice');
      assert.equal(env.FERRY_BYTES, '2');
      assert.equal(env.FERRY_STATUS, 'complete');
      assert.ok(!existsSync(join(hooked.root, 'pwned')) && !existsSync('pwned'));
      await ftp.expect('QUIT', 221);
    } finally {
      await hooked.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
