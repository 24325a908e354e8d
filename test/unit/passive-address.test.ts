/** The passive address rules: by the client's network, then local networks, then passive.address; names resolved and cached. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ConnectionInfo } from '../../src/server/connection-info.js';
import { passiveAddressResolver, type PassiveAddressOptions } from '../../src/server/passive-address.js';

const logger = pino({ level: 'silent' });

function client(remote: string): ConnectionInfo {
  return new ConnectionInfo(remote.includes(':') ? '2001:db8::1' : '10.0.0.5', 21, remote, 40_000, false);
}

function resolver(options: Partial<PassiveAddressOptions>, names: Record<string, string> = {}, lookups: string[] = [], clock = { now: 0 }) {
  return passiveAddressResolver({
    rules: [],
    logger,
    now: () => clock.now,
    resolveName: async (name) => {
      lookups.push(name);
      const address = names[name];
      if (!address) throw new Error(`ENOTFOUND ${name}`);
      return address;
    },
    ...options,
  });
}

describe('passive address per client network', () => {
  const rules = [
    { networks: ['192.168.7.0/24'], address: '192.168.7.1' },
    { networks: ['100.64.0.0/10', '198.51.100.0/24'], address: 'vpn.example.test' },
    { networks: ['203.0.113.0/24'], address: 'local' },
  ];

  test('the first rule whose networks contain the client wins, and says which it was', async () => {
    const choose = resolver({ rules, address: '198.18.0.1' }, { 'vpn.example.test': '100.64.0.1' });
    assert.deepEqual(await choose(client('192.168.7.20')), { address: '192.168.7.1', rule: 'passive.address_rules[0] (192.168.7.0/24)' });
    assert.deepEqual(await choose(client('198.51.100.9')), { address: '100.64.0.1', rule: 'passive.address_rules[1] (100.64.0.0/10, 198.51.100.0/24)' });
    assert.deepEqual(await choose(client('203.0.113.4')), { address: null, rule: 'passive.address_rules[2] (203.0.113.0/24)' });
  });

  test('without a matching rule: local networks get the local address, the others passive.address', async () => {
    const choose = resolver({ rules, address: '198.18.0.1' });
    for (const local of ['10.1.2.3', '172.16.0.9', '192.168.1.1', '127.0.0.1', '::1', 'fd00::5', 'fe80::1']) {
      assert.equal((await choose(client(local))).address, null, local);
    }
    assert.deepEqual(await choose(client('8.8.8.8')), { address: '198.18.0.1', rule: 'passive.address' });
    assert.deepEqual(await resolver({})(client('8.8.8.8')), { address: null, rule: 'the local address' });
  });

  test('a host name is resolved once per 30 s; one that does not resolve gives the local address', async () => {
    const lookups: string[] = [];
    const clock = { now: 0 };
    const choose = resolver({ address: 'ftp.example.test' }, { 'ftp.example.test': '198.18.0.7' }, lookups, clock);
    assert.equal((await choose(client('8.8.8.8'))).address, '198.18.0.7');
    clock.now = 29_000;
    await choose(client('8.8.4.4'));
    assert.deepEqual(lookups, ['ftp.example.test']);
    clock.now = 31_000;
    await choose(client('8.8.4.4'));
    assert.equal(lookups.length, 2);
    assert.equal((await resolver({ address: 'gone.example.test' })(client('8.8.8.8'))).address, null);
  });
});
