/** --retries: which failures are transient, the backoff, and the checked flags. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpClientError, networkError, replyError } from '../../src/client/errors.js';
import { UsageError } from '../../src/cli/remote.js';
import { isTransient, MAX_RETRY_DELAY_SECONDS, retryDelaySeconds, retryPolicyOf } from '../../src/cli/retry.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('retries', () => {
  test('transient: 421/425/426/450/451, resets and closed connections, timeouts', () => {
    for (const code of [421, 425, 426, 450, 451]) assert.ok(isTransient(replyError('RETR x', code, 'busy')), String(code));
    assert.ok(isTransient(new FtpClientError('network', 'the server closed the control connection')));
    assert.ok(isTransient(networkError(errno('ECONNRESET'), 'control connection')));
    assert.ok(isTransient(new FtpClientError('timeout', 'no reply')));
    assert.ok(isTransient(errno('ECONNRESET')), 'a data socket error as the stream reports it');
    assert.ok(isTransient(errno('ERR_STREAM_PREMATURE_CLOSE')));
  });

  test('not transient: 530, 550, 553, other replies, refused connections, TLS, usage, local errors', () => {
    assert.ok(!isTransient(replyError('PASS x', 530, 'no')));
    assert.ok(!isTransient(replyError('RETR x', 550, 'no such file')));
    assert.ok(!isTransient(replyError('STOR x', 553, 'not allowed')));
    assert.ok(!isTransient(replyError('REST 5', 502, 'no REST')));
    assert.ok(!isTransient(networkError(errno('ECONNREFUSED'), 'cannot connect')));
    assert.ok(!isTransient(networkError(errno('ENOTFOUND'), 'cannot connect')));
    assert.ok(!isTransient(new FtpClientError('tls', 'certificate')));
    assert.ok(!isTransient(new FtpClientError('protocol', 'not FTP')));
    assert.ok(!isTransient(new UsageError('bad')));
    assert.ok(!isTransient(errno('ENOSPC')));
    assert.ok(!isTransient(errno('ENOENT')));
  });

  test('the delay doubles from the base and is capped', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(n, 1)), [1, 2, 4, 8]);
    assert.equal(retryDelaySeconds(20, 1), MAX_RETRY_DELAY_SECONDS);
    assert.equal(retryDelaySeconds(3, 0), 0);
  });

  test('--retries and --retry-delay are checked', () => {
    assert.deepEqual(retryPolicyOf({}), { retries: 0, baseDelaySeconds: 1 });
    assert.deepEqual(retryPolicyOf({ retries: '3', retryDelay: '0.5' }), { retries: 3, baseDelaySeconds: 0.5 });
    for (const bad of [{ retries: '-1' }, { retries: 'x' }, { retries: '1.5' }, { retryDelay: '-1' }, { retryDelay: 'soon' }, { retryDelay: '61' }]) {
      assert.throws(() => retryPolicyOf(bad), UsageError, JSON.stringify(bad));
    }
  });
});
