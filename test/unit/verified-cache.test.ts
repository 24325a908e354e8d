import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedPasswordCache } from '../../src/auth/verified-cache.js';

test('remembers a verified password for the same user and hash only', () => {
  const cache = new VerifiedPasswordCache(10, 1000);
  cache.remember('alice', 'pw', 'hash1', 0);
  assert.equal(cache.has('alice', 'pw', 'hash1', 10), true);
  assert.equal(cache.has('alice', 'other', 'hash1', 10), false);
  assert.equal(cache.has('bob', 'pw', 'hash1', 10), false);
  assert.equal(cache.has('alice', 'pw', 'hash2', 10), false, 'a changed password hash misses');
});

test('entries expire', () => {
  const cache = new VerifiedPasswordCache(10, 1000);
  cache.remember('alice', 'pw', 'h', 0);
  assert.equal(cache.has('alice', 'pw', 'h', 999), true);
  assert.equal(cache.has('alice', 'pw', 'h', 1000), false);
});

test('the table is bounded and drops the oldest first', () => {
  const cache = new VerifiedPasswordCache(3, 60_000);
  for (const user of ['a', 'b', 'c', 'd']) cache.remember(user, 'pw', 'h', 0);
  assert.equal(cache.has('a', 'pw', 'h', 1), false);
  for (const user of ['b', 'c', 'd']) assert.equal(cache.has(user, 'pw', 'h', 1), true, user);
});

test('user/password boundaries cannot be shifted to collide', () => {
  const cache = new VerifiedPasswordCache(10, 60_000);
  cache.remember('ab', 'c', 'h', 0);
  assert.equal(cache.has('a', 'bc', 'h', 1), false);
});
