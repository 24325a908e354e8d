import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

/** Asserts that validating `tree` throws a ConfigError naming `key`; returns its message. */
function rejectsKey(tree: Record<string, unknown>, key: string): string {
  let message = '';
  assert.throws(
    () => validateConfig(tree, 'test'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.key, key);
      message = error.message;
      return true;
    },
  );
  return message;
}

describe('config schema: defaults', () => {
  test('an empty config gets every default', () => {
    const config = validateConfig({}, 'test');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 2121);
    assert.equal(config.root, './ftp-root');
    assert.equal(config.banner, 'Ferry FTP server ready.');
    assert.equal(config.users_file, undefined);
    assert.equal(config.charset, 'utf8');
    assert.equal(config.max_clients, 0);
    assert.equal(config.max_per_ip, 0);
    assert.equal(config.max_login_failures, 3);
    assert.equal(config.shutdown_grace, 30);
    assert.deepEqual(config.anonymous, { enabled: false });
    assert.deepEqual(config.passive, { enabled: true, ports: { min: 50000, max: 50999 }, address_rules: [], promiscuous: false });
    assert.deepEqual(config.active, { enabled: true, connect_from_port_20: true, promiscuous: false });
    assert.deepEqual(config.timeouts, { idle: 300, data_connect: 30, data_idle: 300, login: 60 });
    assert.equal(config.tls.strict_upload_eof, true);
    assert.deepEqual(config.limits, {
      glob_max_length: 255,
      glob_max_wildcards: 16,
      listing_max_entries: 100_000,
      max_pending_output: 1024 * 1024,
      connection_rate: 50,
      connection_burst: 200,
      reserved_descriptors: 256,
      zero_copy_threads: 64,
    });
    assert.deepEqual(config.defender, { enabled: true, failed_login_delay: 1, threshold: 10, observation_time: 600, ban_time: 900, allow: [] });
    assert.deepEqual(config.log, { format: 'text', level: 'info', transfers_format: 'xferlog' });
  });

  test('a partly given section keeps the defaults of its other keys', () => {
    const config = validateConfig({ passive: { promiscuous: true }, timeouts: { idle: 60 } }, 'test');
    assert.deepEqual(config.passive, { enabled: true, ports: { min: 50000, max: 50999 }, address_rules: [], promiscuous: true });
    assert.deepEqual(config.timeouts, { idle: 60, data_connect: 30, data_idle: 300, login: 60 });
  });

  test('the schema itself accepts an empty object', () => {
    assert.equal(configSchema.safeParse({}).success, true);
  });
});

describe('config schema: passive.ports', () => {
  test('"MIN-MAX" becomes a range', () => {
    assert.deepEqual(validateConfig({ passive: { ports: '60000-60010' } }, 'test').passive.ports, { min: 60000, max: 60010 });
    assert.deepEqual(validateConfig({ passive: { ports: '2121' } }, 'test').passive.ports, { min: 2121, max: 2121 });
  });

  test('"0" means any free port: null', () => {
    assert.equal(validateConfig({ passive: { ports: '0' } }, 'test').passive.ports, null);
    assert.equal(validateConfig({ passive: { ports: ' 0 ' } }, 'test').passive.ports, null);
  });

  test('bad ranges name the key', () => {
    for (const ports of ['10-5', '0-100', '1-70000', 'many', '']) {
      const message = rejectsKey({ passive: { ports } }, 'passive.ports');
      assert.match(message, /passive\.ports/);
    }
    rejectsKey({ passive: { ports: 50000 } }, 'passive.ports');
  });
});

describe('config schema: errors name their key', () => {
  test('wrong types', () => {
    assert.match(rejectsKey({ port: 'abc' }, 'port'), /port: /);
    rejectsKey({ port: 2.5 }, 'port');
    rejectsKey({ port: 70000 }, 'port');
    rejectsKey({ port: -1 }, 'port');
    rejectsKey({ max_clients: -1 }, 'max_clients');
    rejectsKey({ max_login_failures: 0 }, 'max_login_failures');
    rejectsKey({ shutdown_grace: 0 }, 'shutdown_grace');
    rejectsKey({ anonymous: { enabled: 'yes' } }, 'anonymous.enabled');
    rejectsKey({ passive: 3 }, 'passive');
    rejectsKey({ log: { level: 'loud' } }, 'log.level');
    rejectsKey({ timeouts: { idle: -5 } }, 'timeouts.idle');
    rejectsKey({ root: '' }, 'root');
  });

  test('host must be an IP address', () => {
    assert.equal(validateConfig({ host: '::' }, 'test').host, '::');
    assert.equal(validateConfig({ host: '127.0.0.1' }, 'test').host, '127.0.0.1');
    rejectsKey({ host: 'localhost' }, 'host');
  });

  test('defender.allow takes IPv4/IPv6 addresses and CIDR ranges; anything else names the key', () => {
    const allow = ['192.0.2.0/24', '198.51.100.7', '2001:db8::/32', '::1'];
    assert.deepEqual(validateConfig({ defender: { allow } }, 'test').defender.allow, allow);
    assert.match(rejectsKey({ defender: { allow: ['192.0.2.0/24', 'office.example.com'] } }, 'defender.allow.1'), /defender\.allow\.1: expected an IP address or a CIDR range/);
    rejectsKey({ defender: { allow: ['10.0.0.0/33'] } }, 'defender.allow.0');
  });

  test('passive.address may be an IP address or a host name', () => {
    assert.equal(validateConfig({ passive: { address: '203.0.113.7' } }, 'test').passive.address, '203.0.113.7');
    assert.equal(validateConfig({ passive: { address: 'ftp.example.com' } }, 'test').passive.address, 'ftp.example.com');
    rejectsKey({ passive: { address: 'bad host!' } }, 'passive.address');
    rejectsKey({ passive: { address: '-leading.dash' } }, 'passive.address');
    rejectsKey({ passive: { address_rules: [{ networks: ['10.0.0.0/33'], address: '10.0.0.1' }] } }, 'passive.address_rules.0.networks.0');
    rejectsKey({ passive: { address_rules: [{ networks: [], address: '10.0.0.1' }] } }, 'passive.address_rules.0.networks');
    rejectsKey({ passive: { address_rules: [{ networks: ['10.0.0.0/8'], address: 'bad host!' }] } }, 'passive.address_rules.0.address');
    const rules = validateConfig({ passive: { address_rules: [{ networks: ['10.0.0.0/8', '::1'], address: 'local' }] } }, 'test').passive.address_rules;
    assert.deepEqual(rules, [{ networks: ['10.0.0.0/8', '::1'], address: 'local' }]);
  });

  test('unknown keys are named with their full path', () => {
    assert.match(rejectsKey({ passive: { portz: '1-2' } }, 'passive.portz'), /unknown key "passive\.portz"/);
    assert.match(rejectsKey({ prot: 21 }, 'prot'), /unknown key "prot"/);
    rejectsKey({ log: { colour: true } }, 'log.colour');
  });

  test('the message names where the config came from', () => {
    assert.throws(() => validateConfig({ port: 'x' }, 'ferry.toml and flags'), /invalid configuration \(ferry\.toml and flags\)/);
  });
});

describe('config schema: charset', () => {
  test('a legacy charset is accepted, at the top level and per site', () => {
    const config = validateConfig({ charset: 'gbk', sites: { b: { hosts: ['ftp.b.test'], charset: 'big5' } } }, 'test');
    assert.equal(config.charset, 'gbk');
    assert.equal(config.sites[0]!.config.charset, 'big5');
  });

  test('an unknown charset, or one that changes ASCII, names its key', () => {
    assert.match(rejectsKey({ charset: 'klingon' }, 'charset'), /charset: expected a charset/);
    rejectsKey({ charset: 'utf16le' }, 'charset');
    rejectsKey({ sites: { b: { hosts: ['ftp.b.test'], charset: 'base64' } } }, 'sites.b.charset');
  });
});
