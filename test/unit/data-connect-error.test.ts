/** A data connection that could not be opened: a timeout has its own code (a firewall that drops), the rest one code with the failure named. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataConnectError } from '../../src/server/data/data-connect-error.js';

describe('DataConnectError', () => {
  test('a connect that timed out is FERRY_ERR_DATA_TIMEOUT, 425', () => {
    const error = DataConnectError.active('192.0.2.7:40000', 'timed-out');
    assert.equal(error.code, 'FERRY_ERR_DATA_TIMEOUT');
    assert.equal(error.reply, 425);
    assert.equal(error.message, "Can't open data connection to 192.0.2.7:40000: connect timed out.");
  });

  test('refused, unreachable and other errors are FERRY_ERR_DATA_CONNECT, 425, the errno in the words', () => {
    const refused = DataConnectError.fromErrno('192.0.2.7:40000', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    assert.equal(refused.code, 'FERRY_ERR_DATA_CONNECT');
    assert.equal(refused.details.failure, 'refused');
    const other = DataConnectError.fromErrno('192.0.2.7:40000', Object.assign(new Error('connect EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' }));
    assert.equal(other.code, 'FERRY_ERR_DATA_CONNECT');
    assert.equal(other.reply, 425);
    assert.match(other.message, /connect failed \(EADDRNOTAVAIL\)/);
  });
});
