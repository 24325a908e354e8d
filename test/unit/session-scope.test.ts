/** TlsSessionScope refuses to run without the ticket-key hook that session reuse needs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SecureContext } from 'node:tls';
import { TlsSessionScope } from '../../src/server/tls/session-scope.js';

test('a secure context without the ticket-key hook is refused with a clear error', () => {
  const withoutHook = { context: { setTicketKeys: () => undefined } } as unknown as SecureContext;
  assert.throws(() => new TlsSessionScope(withoutHook), /lacks the TLS ticket-key hook/);
});
