import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, isPasswordHash, verifyPassword } from '../../src/auth/password.js';

const PASSWORD = 'correct horse battery staple';
let hash: string;

before(async () => {
  hash = await hashPassword(PASSWORD);
});

describe('hashPassword', () => {
  test('self-describing scrypt form: scrypt$N$r$p$salt$key', () => {
    const match = /^scrypt\$16384\$8\$1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
    assert.ok(match, hash);
    assert.equal(Buffer.from(match[1]!, 'base64').length, 16);
    assert.equal(Buffer.from(match[2]!, 'base64').length, 32);
    assert.equal(isPasswordHash(hash), true);
  });

  test('the hash never contains the password', async () => {
    for (const password of [PASSWORD, 'hunter2!', 'pässwörd 中文']) {
      const hashed = password === PASSWORD ? hash : await hashPassword(password);
      assert.ok(!hashed.includes(password), hashed);
      assert.ok(!hashed.includes(Buffer.from(password).toString('base64')), hashed);
    }
  });

  test('the same password hashes differently each time (random salt)', async () => {
    const again = await hashPassword(PASSWORD);
    assert.notEqual(again, hash);
    assert.equal(await verifyPassword(PASSWORD, again), true);
  });
});

describe('verifyPassword', () => {
  test('the right password verifies', async () => {
    assert.equal(await verifyPassword(PASSWORD, hash), true);
  });

  test('a wrong password does not', async () => {
    assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
    assert.equal(await verifyPassword('', hash), false);
    assert.equal(await verifyPassword(`${PASSWORD} `, hash), false);
  });

  test('an empty password can be hashed and verified', async () => {
    const empty = await hashPassword('');
    assert.equal(await verifyPassword('', empty), true);
    assert.equal(await verifyPassword('x', empty), false);
  });

  test('a hash of another password with a tampered key does not verify', async () => {
    const parts = hash.split('$');
    const key = Buffer.from(parts[5]!, 'base64');
    key[0] = key[0]! ^ 1;
    parts[5] = key.toString('base64');
    assert.equal(await verifyPassword(PASSWORD, parts.join('$')), false);
  });

  test('malformed hashes are false, not errors', async () => {
    const malformed = [
      '',
      PASSWORD,
      'scrypt',
      'scrypt$16384$8$1$c2FsdA==',
      'scrypt$16384$8$1$$a2V5',
      'scrypt$x$8$1$c2FsdA==$a2V5',
      'bcrypt$16384$8$1$c2FsdA==$a2V5',
      `${hash}$extra`,
      ` ${hash}`,
      hash.replace(/\$([^$]+)$/, '$not base64!'),
    ];
    for (const stored of malformed) {
      assert.equal(isPasswordHash(stored), false, stored);
      assert.equal(await verifyPassword(PASSWORD, stored), false, stored);
    }
  });

  test(
    'a well-formed hash with invalid scrypt parameters is false, not an error',

    async () => {
      assert.equal(await verifyPassword(PASSWORD, 'scrypt$3$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5'), false);
    },
  );

  test(
    'a hash with an empty key accepts no password',

    async () => {
      const stored = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$=';
      assert.equal(await verifyPassword('anything at all', stored), false);
    },
  );
});
