/** `[admin] listen`: the "HOST:PORT" it reads, its default (off), and that it belongs to the whole server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.js';
import { formatListenAddress, parseListenAddress } from '../../src/protocol/address.js';
import { configError } from '../helpers/config-error.js';

describe('parseListenAddress', () => {
  test('IPv4, bracketed IPv6 and host names with a port; port 0 picks one', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
    assert.deepEqual(parseListenAddress('[2001:db8::7]:0'), { host: '2001:db8::7', port: 0 });
    assert.deepEqual(parseListenAddress('localhost:65535'), { host: 'localhost', port: 65535 });
  });

  test('anything else is refused', () => {
    for (const text of ['', '9464', '127.0.0.1', '127.0.0.1:', ':9464', '::1:9464', '[::1]', '[::1]9464', '127.0.0.1:65536', '[localhost]:1', '999.0.0.1:80', 'a b:1', 'http://127.0.0.1:9464']) {
      assert.equal(parseListenAddress(text), null, JSON.stringify(text));
    }
  });

  test('formatListenAddress writes what it reads', () => {
    for (const text of ['127.0.0.1:9464', '[::1]:9464', 'localhost:1']) assert.equal(formatListenAddress(parseListenAddress(text)!), text);
  });
});

describe('[admin] listen', () => {
  test('off by default; set, it is a host and a port', () => {
    assert.equal(validateConfig({}, 'test').admin.listen, undefined);
    assert.deepEqual(validateConfig({ admin: { listen: '[::1]:9464' } }, 'test').admin.listen, { host: '::1', port: 9464 });
  });

  test('a bad value names admin.listen', () => {
    const error = configError(() => validateConfig({ admin: { listen: '9464' } }, 'test'));
    assert.equal(error.key, 'admin.listen');
    assert.match(error.message, /admin\.listen: expected "HOST:PORT"/);
  });

  test('it belongs to the whole server: [sites.NAME.admin] is refused by name', () => {
    const error = configError(() => validateConfig({ sites: { x: { hosts: ['x.example'], admin: { listen: '127.0.0.1:9465' } } } }, 'test'));
    assert.equal(error.key, 'sites.x.admin');
    assert.match(error.message, /sites\.x\.admin: set on the top level only/);
  });
});
