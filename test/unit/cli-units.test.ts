/** Byte units on the command line: --limit-rate as curl reads it, human sizes, rates and durations. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/remote.js';
import { humanBytes, humanDuration, humanRate, parseByteCount, parseRate } from '../../src/cli/units.js';

describe('parseRate (--limit-rate)', () => {
  test('plain bytes and K, M, G as powers of 1024, either case, with decimals', () => {
    assert.equal(parseRate('500'), 500);
    assert.equal(parseRate('100K'), 102_400);
    assert.equal(parseRate('100k'), 102_400);
    assert.equal(parseRate('1M'), 1_048_576);
    assert.equal(parseRate('2.5M'), 2_621_440);
    assert.equal(parseRate('1G'), 1024 ** 3);
    assert.equal(parseRate('.5K'), 512);
  });

  test('anything else is a usage error', () => {
    for (const bad of ['', 'fast', '-1M', '0', '0.4', '1MB', '1T', '1 M', '1e6', 'Infinity']) {
      assert.throws(() => parseRate(bad), UsageError, bad);
    }
  });
});

describe('parseByteCount (ferry user quotas and rates)', () => {
  const quota = (text: string) => parseByteCount(text, '--quota-bytes', { unit: 'bytes', min: 0 });

  test('the same units as --limit-rate, and 0 (no limit) is a value', () => {
    assert.equal(quota('0'), 0);
    assert.equal(quota('10M'), 10 * 1024 ** 2);
    assert.equal(quota('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(quota('500k'), 512_000);
  });

  test('anything else is a usage error naming the flag', () => {
    for (const bad of ['', '-1', '1MB', '1 G', 'lots', '9'.repeat(20)]) {
      assert.throws(() => quota(bad), (error: Error) => error instanceof UsageError && error.message.startsWith('--quota-bytes: '), bad);
    }
  });
});

describe('human units', () => {
  test('sizes in powers of 1000 with one decimal', () => {
    assert.equal(humanBytes(0), '0 B');
    assert.equal(humanBytes(999), '999 B');
    assert.equal(humanBytes(1000), '1.0 kB');
    assert.equal(humanBytes(12_345_678), '12.3 MB');
    assert.equal(humanBytes(40_000_000), '40.0 MB');
    assert.equal(humanBytes(999_999), '1.0 MB');
    assert.equal(humanBytes(3.5e12), '3.5 TB');
  });

  test('rates: kB/s below 1 MB/s (never B/s, as scripts parse the summary), else MB/s and up', () => {
    assert.equal(humanRate(500, 1000), '0.5 kB/s');
    assert.equal(humanRate(2_500_000, 1000), '2.5 MB/s');
    assert.equal(humanRate(1000, 0), '1.0 MB/s', 'no division by zero: at least a millisecond');
  });

  test('durations', () => {
    assert.equal(humanDuration(undefined), '--');
    assert.equal(humanDuration(Infinity), '--');
    assert.equal(humanDuration(42.4), '42s');
    assert.equal(humanDuration(185), '3m05s');
    assert.equal(humanDuration(7620), '2h07m');
  });
});
