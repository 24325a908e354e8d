import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { Defender, type DefenderOptions } from '../../src/server/defender.js';
import { DescriptorBudget } from '../../src/server/descriptor-budget.js';
import { ConnectionRateLimiter } from '../../src/server/rate-limiter.js';
import { parseAddressRange } from '../../src/protocol/address.js';

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
  return { warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger;
}

function defender(options: Partial<DefenderOptions> = {}) {
  const clock = { now: 0 };
  const lines: LogLine[] = [];
  const instance = new Defender({
    enabled: true,
    threshold: 3,
    observationMs: 10_000,
    banMs: 60_000,
    allow: [],
    logger: recordingLogger(lines),
    now: () => clock.now,
    ...options,
  });
  return { defender: instance, clock, lines };
}

describe('defender', () => {
  test('bans an address at the threshold, logs it, and lifts the ban when it expires', () => {
    const { defender: d, clock, lines } = defender();
    assert.equal(d.record('192.0.2.1', 'login-failed'), false);
    assert.equal(d.record('192.0.2.1', 'login-failed'), false);
    assert.equal(d.isBanned('192.0.2.1'), false);
    clock.now = 1000;
    assert.equal(d.record('192.0.2.1', 'login-failed'), true);
    assert.equal(d.isBanned('192.0.2.1'), true);
    assert.equal(d.isBanned('192.0.2.2'), false, 'other addresses are not affected');
    const ban = lines.find((line) => line.message === 'address banned');
    assert.deepEqual(ban?.fields, { address: '192.0.2.1', failures: 3, event: 'login-failed', until: new Date(61_000).toISOString() });
    assert.equal(ban?.level, 'warn');
    clock.now = 60_999;
    assert.equal(d.isBanned('192.0.2.1'), true);
    clock.now = 61_000;
    assert.equal(d.isBanned('192.0.2.1'), false);
    assert.deepEqual(lines.at(-1), { level: 'info', fields: { address: '192.0.2.1' }, message: 'ban lifted' });
    assert.equal(d.bannedCount, 0);
  });

  test('failures older than the observation window do not count', () => {
    const { defender: d, clock } = defender();
    d.record('192.0.2.1', 'login-failed');
    d.record('192.0.2.1', 'login-failed');
    clock.now = 10_000;
    assert.equal(d.record('192.0.2.1', 'login-failed'), false);
    assert.equal(d.record('192.0.2.1', 'too-many-failures'), false);
    assert.equal(d.record('192.0.2.1', 'login-failed'), true, 'three events inside the window');
  });

  test('IPv4-mapped IPv6 and plain IPv4 are one address', () => {
    const { defender: d } = defender();
    d.record('::ffff:192.0.2.9', 'login-failed');
    d.record('192.0.2.9', 'login-failed');
    d.record('::FFFF:192.0.2.9', 'login-failed');
    assert.equal(d.isBanned('192.0.2.9'), true);
    assert.equal(d.isBanned('::ffff:192.0.2.9'), true);
  });

  test('the allow list (addresses and CIDR ranges, IPv4 and IPv6) is never banned', () => {
    const { defender: d } = defender({ allow: ['192.0.2.0/24', '2001:db8::/32', '::1', '::ffff:198.51.100.7'] });
    for (const address of ['192.0.2.200', '2001:db8::5', '::1', '198.51.100.7', '::ffff:192.0.2.1']) {
      for (let i = 0; i < 10; i++) d.record(address, 'login-failed');
      assert.equal(d.isBanned(address), false, address);
    }
    for (let i = 0; i < 3; i++) d.record('2001:db9::1', 'login-failed');
    assert.equal(d.isBanned('2001:db9::1'), true, 'outside the allowed range');
  });

  test('disabled: nothing is scored or banned', () => {
    const { defender: d } = defender({ enabled: false });
    for (let i = 0; i < 10; i++) assert.equal(d.record('192.0.2.1', 'login-failed'), false);
    assert.equal(d.isBanned('192.0.2.1'), false);
  });

  test('memory is bounded: at most maxEntries records and bans', () => {
    const { defender: d } = defender({ threshold: 1, maxEntries: 100 });
    for (let i = 0; i < 1000; i++) d.record(`10.0.${i >> 8}.${i & 255}`, 'login-failed');
    assert.equal(d.bannedCount, 100);
    assert.equal(d.isBanned('10.0.3.231'), true, 'the latest bans are kept');
    assert.equal(d.isBanned('10.0.0.0'), false, 'the oldest were dropped');
  });
});

describe('connection rate limiter (token bucket)', () => {
  test('allows the burst, then the rate; addresses have their own buckets', () => {
    const clock = { now: 0 };
    const limiter = new ConnectionRateLimiter({ rate: 2, burst: 3, now: () => clock.now });
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false]);
    assert.equal(limiter.take('b'), true);
    clock.now = 499;
    assert.equal(limiter.take('a'), false);
    clock.now = 500;
    assert.equal(limiter.take('a'), true, 'one token per 1/rate seconds');
    assert.equal(limiter.take('a'), false);
  });

  test('rate 0 turns it off', () => {
    const limiter = new ConnectionRateLimiter({ rate: 0, burst: 1 });
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('a'), true);
    assert.equal(limiter.size, 0);
  });

  test('idle buckets are pruned and the map is capped', () => {
    const clock = { now: 0 };
    const limiter = new ConnectionRateLimiter({ rate: 10, burst: 10, maxAddresses: 50, now: () => clock.now });
    for (let i = 0; i < 200; i++) limiter.take(`10.0.0.${i}`);
    assert.equal(limiter.size, 50);
    clock.now = 1000;
    limiter.take('192.0.2.1');
    assert.equal(limiter.size, 1, 'refilled buckets are forgotten');
  });
});

describe('address ranges', () => {
  test('addresses and CIDR ranges, IPv4 and IPv6', () => {
    assert.deepEqual(parseAddressRange('192.0.2.0/24'), { address: '192.0.2.0', family: 'ipv4', prefix: 24 });
    assert.deepEqual(parseAddressRange('::1'), { address: '::1', family: 'ipv6', prefix: 128 });
    assert.deepEqual(parseAddressRange('2001:DB8::/32'), { address: '2001:db8::', family: 'ipv6', prefix: 32 });
    assert.deepEqual(parseAddressRange('::ffff:192.0.2.1'), { address: '192.0.2.1', family: 'ipv4', prefix: 32 });
    for (const bad of ['', 'example.com', '192.0.2.0/33', '::/129', '192.0.2.1/', '192.0.2.1/x', '300.1.1.1']) {
      assert.equal(parseAddressRange(bad), null, bad);
    }
  });
});

describe('descriptor budget', () => {
  test('reads the soft RLIMIT_NOFILE and refuses when fewer than the reserve are free', () => {
    const roomy = new DescriptorBudget(1);
    assert.ok((roomy.softLimit ?? 0) > 0, 'Linux: "Max open files" from /proc/self/limits');
    assert.equal(roomy.admit(), true);
    assert.ok(roomy.inUse > 2, `counted ${roomy.inUse} open descriptors`);
    assert.equal(new DescriptorBudget(roomy.softLimit!).admit(), false, 'a reserve as large as the limit refuses everything');
  });

  test('reserve 0 turns the check off', () => {
    const off = new DescriptorBudget(0);
    assert.equal(off.softLimit, null);
    assert.equal(off.admit(), true);
  });
});
