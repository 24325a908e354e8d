/** `ferry user add|set` flags to users-file keys, applied to one entry, and `list` lines. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { RawUser } from '../../src/auth/users-file.js';
import { UsageError } from '../../src/cli/remote.js';
import { applySettings, listLine, settingsChange } from '../../src/cli/user-settings.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

describe('settingsChange', () => {
  test('flags become users-file keys, sizes and rates in bytes', () => {
    assert.deepEqual(settingsChange({ home: 'h', permissions: 'list, read,list', tls: 'login', quotaBytes: '1K', quotaFiles: '7', uploadRate: '0', unset: ['max-sessions', 'charset'] }), {
      set: { home: resolve('h'), permissions: ['list', 'read'], tls: 'login', quota_bytes: 1024, quota_files: 7, upload_rate: 0 },
      unset: ['max_sessions', 'charset'],
    });
  });

  test('unsetting read_only conflicts with --permissions (one setting)', () => {
    assert.throws(() => settingsChange({ permissions: 'list', unset: ['read_only'] }), UsageError);
  });
});

describe('applySettings', () => {
  test('reports set, removed and kept keys; read_only and permissions replace each other', () => {
    const entry: RawUser = { password: HASH, home: '/h', read_only: true, quota_files: 3 };
    const applied = applySettings(entry, { set: { permissions: ['list'] }, unset: ['quota_files', 'tls'] });
    assert.deepEqual(applied, { set: ['permissions'], removed: ['read_only', 'quota_files'], kept: ['home'] });
    assert.deepEqual(entry, { password: HASH, home: '/h', permissions: ['list'] });
  });

  test('keys end up in the same order whatever order they were set in', () => {
    const entry: RawUser = { password: HASH, max_sessions: 1 };
    applySettings(entry, { set: { tls: 'off', home: '/h' }, unset: [] });
    assert.deepEqual(Object.keys(entry), ['password', 'home', 'tls', 'max_sessions']);
  });

  test('--unset permissions also removes read_only: all permissions again', () => {
    const entry: RawUser = { password: HASH, read_only: true };
    assert.deepEqual(applySettings(entry, { set: {}, unset: ['permissions'] }), { set: [], removed: ['read_only'], kept: [] });
    assert.deepEqual(entry, { password: HASH });
  });
});

describe('listLine', () => {
  test('name first, settings in a fixed order, values quoted only when they are not one word', () => {
    const entry: RawUser = { password: HASH, max_sessions: 2, tls: 'required', home: '/srv/my ftp', permissions: ['list', 'read'] };
    assert.equal(listLine('alice', entry), 'alice home="/srv/my ftp" permissions=list,read tls=required max_sessions=2');
    assert.equal(listLine('bob', { password: HASH }), 'bob');
  });
});
