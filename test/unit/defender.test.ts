import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { events, type BanEvent } from '../../src/observability/events.js';
import { Defender, type AbuseLedger, type DefenderOptions } from '../../src/server/defender.js';
import { DescriptorBudget } from '../../src/server/descriptor-budget.js';
import { ConnectionRateLimiter } from '../../src/server/rate-limiter.js';
import { addressGroup, parseAddressRange } from '../../src/protocol/address.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';


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


/** Runs `fn` with the ban events published meanwhile (what metrics.ts counts: those not adopted). */
function withBanEvents(fn: (published: BanEvent[]) => void): void {
  const published: BanEvent[] = [];
  const onBan = (message: unknown) => published.push(message as BanEvent);
  subscribe(events.ban.name, onBan);
  try {
    fn(published);
  } finally {
    unsubscribe(events.ban.name, onBan);
  }
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

  test('bans adopted from other nodes end at their own time, whatever order they arrived in', () => {
    const { defender: d, clock } = defender();
    d.adoptBan('192.0.2.1', 600_000, { by: 'another node', reachedHere: false });
    d.adoptBan('192.0.2.2', 60_000, { by: 'another node', reachedHere: false });
    assert.equal(d.isBanned('192.0.2.2'), true);
    assert.equal(d.bannedCount, 2);
    clock.now = 120_000;
    assert.equal(d.bannedCount, 1, 'the bans in force (the metrics gauge), not the ones held');
    assert.equal(d.isBanned('192.0.2.2'), false, 'the shorter ban, adopted after the longer one, has ended');
    assert.equal(d.isBanned('192.0.2.1'), true);
    assert.equal(d.record('192.0.2.2', 'login-failed'), false, 'a failure after the ban counts anew');
  });

  test('between workers, each ban the primary decides is counted once: by the worker whose event reached the threshold', () => {
    withBanEvents((published) => {
      // What ferry_bans_total sums over the workers (metrics.ts counts the bans not adopted).
      const counted = () => published.filter((event) => !event.adopted).length;
      const primary: AbuseLedger = { report: () => undefined, forgive: () => undefined, decidesEveryBan: true };
      const workers = [defender({ shared: primary }), defender({ shared: primary })];
      const [first, second] = workers;
      const fromPrimary = (reachedHere: boolean) => ({ by: 'the primary', reachedHere }) as const;

      // Spread over both workers, the events reach the threshold only in the primary: the reporting worker counts the ban.
      first!.defender.adoptBan('192.0.2.1', 60_000, fromPrimary(true));
      second!.defender.adoptBan('192.0.2.1', 60_000, fromPrimary(false));
      assert.equal(counted(), 1);
      for (const { defender: d, lines } of workers) {
        assert.equal(d.isBanned('192.0.2.1'), true);
        assert.deepEqual(lines.map((line) => line.message), ['address banned (by the primary)']);
      }

      // A worker that reaches the threshold itself bans at once but counts the ban when the primary's decision comes back.
      for (let i = 0; i < 3; i++) first!.defender.record('192.0.2.2', 'login-failed');
      assert.equal(first!.defender.isBanned('192.0.2.2'), true);
      assert.equal(counted(), 1, 'not yet: the primary decides');
      first!.defender.adoptBan('192.0.2.2', 60_001, fromPrimary(true));
      second!.defender.adoptBan('192.0.2.2', 60_001, fromPrimary(false));
      assert.equal(counted(), 2);
      assert.deepEqual(first!.lines.slice(1).map((line) => line.message), ['address banned'], 'no second line for the ban it holds');
      assert.deepEqual(second!.lines.slice(1).map((line) => line.message), ['address banned (by the primary)']);
    });
  });

  test('through Redis, a node counts the bans it reaches; one adopted from another node is not counted, nor logged again when held', () => {
    withBanEvents((published) => {
      const { defender: d, lines } = defender({ shared: { report: () => undefined, forgive: () => undefined } });
      for (let i = 0; i < 3; i++) d.record('192.0.2.1', 'login-failed');
      d.adoptBan('192.0.2.1', 90_000, { by: 'another node', reachedHere: false });
      d.adoptBan('192.0.2.2', 90_000, { by: 'another node', reachedHere: false });
      assert.deepEqual(published.map((event) => [event.address, event.adopted]), [['192.0.2.1', false], ['192.0.2.2', true]]);
      assert.deepEqual(lines.map((line) => line.message), ['address banned', 'address banned (by another node)']);
      assert.deepEqual(d.listBans(), [{ address: '192.0.2.1', until: 90_000 }, { address: '192.0.2.2', until: 90_000 }], 'the later end is kept');
    });
  });

  test('through Redis, a ban this node reached in the cluster count is counted once; one it had made itself is not counted again', () => {
    withBanEvents((published) => {
      const { defender: d, lines } = defender({ shared: { report: () => undefined, forgive: () => undefined } });
      d.adoptBan('192.0.2.3', 90_000, { by: 'the cluster count', reachedHere: true });
      d.adoptBan('192.0.2.3', 90_000, { by: 'another node', reachedHere: false }); // its own announcement, back through Redis
      for (let i = 0; i < 3; i++) d.record('192.0.2.4', 'login-failed');
      d.adoptBan('192.0.2.4', 90_000, { by: 'the cluster count', reachedHere: true });
      assert.deepEqual(published.map((event) => [event.address, event.adopted]), [['192.0.2.3', false], ['192.0.2.4', false]]);
      assert.deepEqual(lines.map((line) => line.message), ['address banned (by the cluster count)', 'address banned']);
    });
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

  test('password checks in flight plus recent failures of an address never exceed the threshold', () => {
    const { defender: d } = defender();
    const checks = [1, 2, 3].map(() => d.beginLoginCheck('192.0.2.1'));
    assert.ok(checks.every((check) => check !== null), 'up to the threshold at once');
    assert.equal(d.beginLoginCheck('192.0.2.1'), null, 'a fourth check in parallel is refused');
    assert.notEqual(d.beginLoginCheck('192.0.2.2'), null, 'other addresses have their own count');
    assert.equal(checks[0]!.end(false), false, 'a success releases its slot');
    const fourth = d.beginLoginCheck('::ffff:192.0.2.1');
    assert.notEqual(fourth, null);
    assert.equal(checks[1]!.end(true), false, 'a failure is scored as it is released');
    assert.equal(d.beginLoginCheck('192.0.2.1'), null, 'two in flight plus one failure reach the threshold');
    assert.equal(checks[2]!.end(true), false);
    assert.equal(fourth!.end(true), true, 'the third failure bans');
    assert.equal(d.isBanned('192.0.2.1'), true);
  });

  test('the in-flight cap holds with the defender disabled (no failures counted); allowed addresses are exempt', () => {
    const { defender: disabled } = defender({ enabled: false });
    const checks = [1, 2, 3].map(() => disabled.beginLoginCheck('192.0.2.1'));
    assert.equal(disabled.beginLoginCheck('192.0.2.1'), null);
    for (const check of checks) assert.equal(check!.end(true), false, 'never a ban');
    assert.notEqual(disabled.beginLoginCheck('192.0.2.1'), null, 'released: failures do not count when disabled');
    const { defender: allowing } = defender({ allow: ['192.0.2.0/24'] });
    for (let i = 0; i < 10; i++) assert.notEqual(allowing.beginLoginCheck('192.0.2.9'), null);
  });

  test('IPv6 counts per /64, IPv4 per address', () => {
    const { defender: d, lines } = defender();
    for (const address of ['2001:db8:1:2::1', '2001:DB8:1:2:aaaa::2', '2001:db8:1:2:ffff:ffff:ffff:ffff']) d.record(address, 'login-failed');
    assert.equal(d.isBanned('2001:db8:1:2::99'), true, 'the whole /64 is banned');
    assert.equal(d.isBanned('2001:db8:1:3::1'), false, 'the next /64 is not');
    assert.equal(lines.find((line) => line.message === 'address banned')?.fields.address, '2001:db8:1:2::/64');
    for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) d.record(address, 'login-failed');
    assert.equal(d.isBanned('192.0.2.1'), false, 'neighbouring IPv4 addresses are separate clients');
    const inFlight = ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:db8:5:6::3'].map((address) => d.beginLoginCheck(address));
    assert.ok(inFlight.every((check) => check !== null));
    assert.equal(d.beginLoginCheck('2001:db8:5:6::4'), null, 'checks in flight are counted per /64 too');
  });

  test('an allowed address inside a banned /64 is not banned', () => {
    const { defender: d } = defender({ allow: ['2001:db8:1:2::7'] });
    for (let i = 0; i < 3; i++) d.record(`2001:db8:1:2::${i + 1}`, 'login-failed');
    assert.equal(d.isBanned('2001:db8:1:2::1'), true);
    assert.equal(d.isBanned('2001:db8:1:2::7'), false);
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

  test('IPv6 addresses of one /64 share a bucket; IPv4-mapped is IPv4', () => {
    const limiter = new ConnectionRateLimiter({ rate: 1, burst: 2, now: () => 0 });
    assert.equal(limiter.take('2001:db8:1:2::1'), true);
    assert.equal(limiter.take('2001:db8:1:2::2'), true);
    assert.equal(limiter.take('2001:db8:1:2:dead:beef:0:3'), false, 'a rotated address of the same /64 gets no fresh bucket');
    assert.equal(limiter.take('2001:db8:1:3::1'), true, 'another /64 is another client');
    assert.equal(limiter.take('192.0.2.1'), true);
    assert.equal(limiter.take('::ffff:192.0.2.1'), true);
    assert.equal(limiter.take('192.0.2.1'), false);
    assert.equal(limiter.take('192.0.2.2'), true, 'IPv4 stays per address');
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

  test('addressGroup: IPv4 per address, IPv6 per /64', () => {
    const cases: Array<[string, string]> = [
      ['192.0.2.7', '192.0.2.7'],
      ['::ffff:192.0.2.7', '192.0.2.7'],
      ['2001:DB8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
      ['2001:db8::1', '2001:db8:0:0::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['::1', '0:0:0:0::/64'],
      ['1:2:3:4:5:6:7::', '1:2:3:4::/64'],
      ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
      ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
    ];
    for (const [address, group] of cases) assert.equal(addressGroup(address), group, address);
  });
});

describe('descriptor budget', () => {
  const quiet = recordingLogger([]);

  test('reads the soft RLIMIT_NOFILE and refuses when fewer than the reserve are free', () => {
    const roomy = new DescriptorBudget({ reserve: 1, logger: quiet });
    assert.ok((roomy.softLimit ?? 0) > 0, 'Linux: "Max open files" from /proc/self/limits');
    assert.equal(roomy.admit(), true);
    assert.ok(roomy.inUse > 2, `counted ${roomy.inUse} open descriptors`);
    const tight = new DescriptorBudget({ reserve: 300, logger: quiet, readSoftLimit: () => 1000, countOpen: () => 701 });
    assert.equal(tight.admit(), false, '299 free, 300 reserved');
    assert.equal(new DescriptorBudget({ reserve: 300, logger: quiet, readSoftLimit: () => 1000, countOpen: () => 700 }).admit(), true);
  });

  test('a reserve leaving fewer than 64 descriptors is clamped to half the soft limit, with a warning naming the key', () => {
    for (const [configured, softLimit, expected] of [
      [1024, 1024, 512],
      [5000, 1024, 512],
      [1000, 1024, 512],
      [960, 1024, 960],
      [256, 1024, 256],
      [50, 100, 50],
    ] as const) {
      const lines: LogLine[] = [];
      const budget = new DescriptorBudget({ reserve: configured, logger: recordingLogger(lines), readSoftLimit: () => softLimit, countOpen: () => 10 });
      assert.equal(budget.reserve, expected, `reserve ${configured} under limit ${softLimit}`);
      assert.equal(budget.admit(), true, 'connections are admitted while descriptors are plentiful');
      if (expected === configured) {
        assert.deepEqual(lines, []);
      } else {
        assert.equal(lines.length, 1);
        assert.equal(lines[0]!.level, 'warn');
        assert.deepEqual(lines[0]!.fields, { key: 'limits.reserved_descriptors', configured, softLimit, reserve: expected });
        assert.match(lines[0]!.message, /limits\.reserved_descriptors/);
      }
    }
  });

  test('reserve 0 turns the check off', () => {
    const off = new DescriptorBudget({ reserve: 0, logger: quiet });
    assert.equal(off.softLimit, null);
    assert.equal(off.admit(), true);
  });
});
