/** What 227 advertises over a real socket: a rule for the client's network, or the local address for a local client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withTestServer } from '../helpers/server.js';
import { login } from './support.js';

test('a loopback client gets the local address even with passive.address set; a rule for its network overrides that, and the reply names it', async () => {
  await withTestServer({ passive: { address: '198.18.0.1' } }, async (server) => {
    const ftp = await login(server);
    assert.match((await ftp.expect('PASV', 227)).text, /^Entering Passive Mode \(127,0,0,1,\d+,\d+\)\.$/);
    await ftp.quit();
  });
  await withTestServer({ passive: { address: '198.18.0.1', address_rules: [{ networks: ['127.0.0.0/8'], address: '127.0.0.1' }] } }, async (server) => {
    const ftp = await login(server);
    const reply = await ftp.expect('PASV', 227);
    assert.match(reply.text, /^Entering Passive Mode \(127,0,0,1,\d+,\d+\)\. Address from passive\.address_rules\[0\] 127\.0\.0\.0\/8\.$/);
    // Clients read the first (h1,...,p2) group: the data connection works as advertised.
    const { data } = await ftp.download('LIST', 'PASV');
    assert.equal(data.length, 0);
    await ftp.quit();
  });
});
