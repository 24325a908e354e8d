/** The start-up checks on configs and machines given by the test (no real DNS, no real interfaces). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { validateConfig } from '../../src/config/load.js';
import { checkServerConfig, type CheckEnvironment, type Finding } from '../../src/server/startup-checks.js';

function machine(addresses: string[], names: Record<string, string> = {}): CheckEnvironment {
  const info = (address: string, internal: boolean): NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null });
  return {
    interfaces: () => ({ lo: [info('127.0.0.1', true)], eth0: addresses.map((address) => info(address, false)) }),
    resolve: async (host) => {
      const address = names[host];
      if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return address;
    },
  };
}

async function findings(config: Record<string, unknown>, env: CheckEnvironment): Promise<Map<string, Finding>> {
  return new Map((await checkServerConfig(validateConfig(config, 'test'), env)).map((finding) => [finding.key, finding]));
}

describe('start-up checks', () => {
  test('a machine with only private addresses and no passive.address: a warning naming the addresses and the settings', async () => {
    const result = (await findings({}, machine(['10.0.0.5', '192.168.1.9']))).get('passive.address')!;
    assert.equal(result.level, 'warn');
    assert.match(result.message, /10\.0\.0\.5, 192\.168\.1\.9/);
    assert.match(result.message, /pasv_address.*MasqueradeAddress/);
  });

  test('listening on one private or loopback address without passive.address warns; a public one does not', async () => {
    assert.equal((await findings({ host: '10.0.0.5' }, machine(['203.0.113.7']))).get('passive.address')!.level, 'warn');
    assert.equal((await findings({ host: '127.0.0.1' }, machine([]))).get('passive.address')!.level, 'warn');
    assert.equal((await findings({ host: '203.0.113.7' }, machine(['203.0.113.7']))).get('passive.address')!.level, 'ok');
    assert.equal((await findings({}, machine(['10.0.0.5', '203.0.113.7']))).get('passive.address')!.level, 'ok');
  });

  test('a passive.address IP or a host name that resolves is fine; one that does not resolve is an error', async () => {
    const env = machine(['10.0.0.5'], { 'ftp.example.test': '198.51.100.1' });
    assert.equal((await findings({ passive: { address: '198.51.100.1' } }, env)).get('passive.address')!.level, 'ok');
    const resolved = (await findings({ passive: { address: 'ftp.example.test' } }, env)).get('passive.address')!;
    assert.equal(resolved.level, 'ok');
    assert.match(resolved.message, /198\.51\.100\.1/);
    const broken = (await findings({ passive: { address: 'nowhere.example.test' } }, env)).get('passive.address')!;
    assert.equal(broken.level, 'error');
    assert.match(broken.message, /nowhere\.example\.test does not resolve \(ENOTFOUND\).*--allow-unresolved-passive-address/);
  });

  test('a passive range smaller than max_clients warns with both numbers', async () => {
    const env = machine(['203.0.113.7']);
    const small = (await findings({ max_clients: 50, passive: { ports: '50000-50009' } }, env)).get('passive.ports')!;
    assert.equal(small.level, 'warn');
    assert.match(small.message, /^10 passive ports \(50000-50009\) for max_clients = 50/);
    assert.equal((await findings({ max_clients: 10, passive: { ports: '50000-50009' } }, env)).get('passive.ports')!.level, 'ok');
    assert.equal((await findings({ passive: { ports: '50000-50009' } }, env)).get('passive.ports')!.level, 'ok', 'no session limit: nothing to compare');
  });

  test('active mode with bounce protection off warns; with active mode off there is nothing to say', async () => {
    const env = machine(['203.0.113.7']);
    assert.equal((await findings({ active: { promiscuous: true } }, env)).get('active.promiscuous')!.level, 'warn');
    assert.equal((await findings({ active: { promiscuous: false } }, env)).get('active.promiscuous')!.level, 'ok');
    assert.equal((await findings({ active: { enabled: false, promiscuous: true } }, env)).has('active.promiscuous'), false);
  });

  test('passive mode off: no passive checks', async () => {
    const result = await findings({ passive: { enabled: false } }, machine(['10.0.0.5']));
    assert.equal(result.has('passive.address'), false);
    assert.equal(result.has('passive.ports'), false);
  });

  test('a site with its own passive.address is checked under its own key; one that inherits it is not repeated', async () => {
    const env = machine(['203.0.113.7'], { 'ftp.b.test': '198.51.100.2' });
    const result = await findings({ sites: { b: { hosts: ['ftp.b.test'], passive: { address: 'nowhere.b.test' } }, c: { hosts: ['ftp.c.test'] } } }, env);
    assert.equal(result.get('sites.b.passive.address')!.level, 'error');
    assert.equal(result.has('sites.c.passive.address'), false);
  });
});
