/**
 * A user's rate is one bucket shared by the user's sessions: a login sets it from the
 * user's entry (the newest wins), a reload from [user_defaults]; an older session that
 * follows a reload must not put back the rate its own login had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { UserAllowances, type Admission } from '../../src/server/limits/user-allowances.js';
import type { UserContext } from '../../src/auth/authenticator.js';
import type { StorageBackend } from '../../src/storage/backend.js';

const NO_DEFAULTS = { quota_bytes: 0, quota_files: 0, upload_rate: 0, download_rate: 0, max_sessions: 0 };
const site = { name: 'main', config: { user_defaults: NO_DEFAULTS } };

function alice(uploadRate?: number): UserContext {
  return { name: 'alice', home: '/srv/alice', permissions: new Set(), anonymous: false, ...(uploadRate !== undefined && { limits: { uploadRate } }) };
}

test("an older session's refresh keeps the rate a newer login of the same user set; [user_defaults] from a reload reach everyone", async () => {
  const allowances = new UserAllowances();
  const request = { storage: {} as StorageBackend, logger: pino({ level: 'silent' }), site };
  const older = await allowances.admit({ ...request, user: alice(1000) });
  const newer = await allowances.admit({ ...request, user: alice(2000) }); // the users file was edited in between
  assert.ok(older && newer);
  assert.equal(older.uploadRate, newer.uploadRate, 'one bucket for the user');
  assert.equal(newer.uploadRate?.rate, 2000);
  older.refresh(site); // a reload reaches the older session at its next command
  assert.equal(newer.uploadRate?.rate, 2000, 'the newer login’s rate stays');

  const bob = (await allowances.admit({ ...request, user: { ...alice(), name: 'bob' } }))!;
  const rateOf = (admission: Admission) => admission.uploadRate?.rate ?? null;
  assert.equal(rateOf(bob), null, 'no rate for a user without one');
  bob.refresh({ name: 'main', config: { user_defaults: { ...NO_DEFAULTS, upload_rate: 500 } } });
  assert.equal(rateOf(bob), 500, 'a reloaded default applies to a running session');
  for (const admission of [older, newer, bob]) admission.release();
});
