import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransferEvent } from '../../src/observability/events.js';
import { ctimeDate, formatTransferJson, formatXferlog, transferSeconds } from '../../src/observability/xferlog-format.js';
import { parseXferlog } from '../helpers/xferlog.js';

/** Local time, as xferlog writes it, whatever TZ the tests run in. */
const MARCH_4_2024 = new Date(2024, 2, 4, 8, 12, 30).getTime();

function event(overrides: Partial<TransferEvent> = {}): TransferEvent {
  return {
    session: { id: '3f2a9c1b-17', remoteAddress: '192.168.1.2', user: { name: 'alice' } },
    verb: 'RETR',
    path: '/pub/file.txt',
    bytes: 5120,
    durationMs: 400,
    outcome: 'complete',
    zeroCopy: false,
    direction: 'download',
    kind: 'file',
    mode: 'binary',
    remoteAddress: '192.168.1.2',
    user: { name: 'alice', anonymous: false },
    site: 'default',
    endedAt: MARCH_4_2024,
    ...overrides,
  };
}

describe('xferlog line', () => {
  test('a binary download by a real user, field by field as vsftpd writes it', () => {
    const line = formatXferlog(event());
    assert.equal(line, 'Mon Mar  4 08:12:30 2024 1 192.168.1.2 5120 /pub/file.txt b _ o r alice ftp 0 * c');
    assert.equal(parseXferlog(line).filename, '/pub/file.txt');
  });

  test('an upload of a name with spaces and non-ASCII letters: "_" for spaces, UTF-8 kept', () => {
    const line = formatXferlog(event({ verb: 'STOR', direction: 'upload', path: '/up load/résumé 2024 日本.txt', bytes: 17 }));
    assert.equal(line, 'Mon Mar  4 08:12:30 2024 1 192.168.1.2 17 /up_load/résumé_2024_日本.txt b _ i r alice ftp 0 * c');
    const parsed = parseXferlog(line);
    assert.equal(parsed.direction, 'i');
    assert.equal(parsed.filename, '/up_load/résumé_2024_日本.txt');
  });

  test('a name cannot start a line of its own or shift the fields: controls become "?", any whitespace "_"', () => {
    const line = formatXferlog(event({ path: '/a\nMon Mar  4 08:12:30 2024 1 10.0.0.1 1 /x b _ o r root ftp 0 * c\tb\u00a0c\u2028d\u0085e' }));
    assert.ok(!/[\n\r\t\u2028\u0085]/u.test(line), JSON.stringify(line));
    const parsed = parseXferlog(line);
    assert.equal(parsed.filename, '/a?Mon_Mar__4_08:12:30_2024_1_10.0.0.1_1_/x_b___o_r_root_ftp_0_*_c?b_c_d?e');
    assert.equal(parsed.remoteHost, '192.168.1.2');
    assert.equal(parsed.username, 'alice');
  });

  test('TYPE A is transfer type "a"', () => {
    assert.equal(parseXferlog(formatXferlog(event({ mode: 'ascii' }))).transferType, 'a');
  });

  test('an aborted or failed transfer is incomplete ("i")', () => {
    assert.equal(parseXferlog(formatXferlog(event({ outcome: 'aborted', bytes: 65536 }))).status, 'i');
    assert.equal(parseXferlog(formatXferlog(event({ outcome: 'failed', failure: { code: 'FERRY_ERR_DATA_ABORTED', reason: 'Connection closed; transfer aborted.' } }))).status, 'i');
  });

  test('an anonymous user is access mode "a" with the login name (the password is never logged)', () => {
    const line = formatXferlog(event({ user: { name: 'anonymous', anonymous: true } }));
    assert.ok(line.endsWith(' b _ o a anonymous ftp 0 * c'), line);
  });

  test('an IPv6 client address is written as it is', () => {
    assert.equal(parseXferlog(formatXferlog(event({ remoteAddress: '2001:db8::7' }))).remoteHost, '2001:db8::7');
  });

  test('transfer time: whole seconds, rounded, at least 1', () => {
    assert.deepEqual([0, 499, 1499, 1500, 2600, 61_000].map(transferSeconds), [1, 1, 1, 2, 3, 61]);
    assert.equal(parseXferlog(formatXferlog(event({ durationMs: 2600 }))).seconds, 3);
  });

  test('the date is ctime(3): day of month padded with a space, hours with a zero', () => {
    assert.equal(ctimeDate(new Date(2024, 2, 4, 8, 2, 3)), 'Mon Mar  4 08:02:03 2024');
    assert.equal(ctimeDate(new Date(2023, 11, 31, 23, 59, 59)), 'Sun Dec 31 23:59:59 2023');
    assert.equal(ctimeDate(new Date(2025, 0, 14, 0, 0, 0)), 'Tue Jan 14 00:00:00 2025');
  });
});

describe('JSON transfer line', () => {
  test('a complete download: the documented fields, no failure fields', () => {
    const line = formatTransferJson(event({ mode: 'ascii' }));
    assert.ok(!line.includes('\n'));
    assert.deepEqual(JSON.parse(line), {
      time: new Date(MARCH_4_2024).toISOString(),
      durationMs: 400,
      remoteAddress: '192.168.1.2',
      bytes: 5120,
      path: '/pub/file.txt',
      direction: 'download',
      mode: 'ascii',
      user: 'alice',
      anonymous: false,
      status: 'complete',
      verb: 'RETR',
      session: '3f2a9c1b-17',
      site: 'default',
    });
  });

  test('a failed upload carries the code and the reason', () => {
    const record = JSON.parse(
      formatTransferJson(event({ verb: 'STOR', direction: 'upload', outcome: 'failed', failure: { code: 'FERRY_ERR_NO_SPACE', reason: 'Insufficient storage space.' } })),
    );
    assert.equal(record.status, 'failed');
    assert.equal(record.code, 'FERRY_ERR_NO_SPACE');
    assert.equal(record.reason, 'Insufficient storage space.');
  });

  test('an aborted transfer by an anonymous user', () => {
    const record = JSON.parse(formatTransferJson(event({ outcome: 'aborted', user: { name: 'anonymous', anonymous: true } })));
    assert.equal(record.status, 'aborted');
    assert.equal(record.anonymous, true);
    assert.equal(record.user, 'anonymous');
    assert.equal('code' in record, false);
  });

  test('a name with a newline or a line separator stays on one line', () => {
    const line = formatTransferJson(event({ path: '/a\nb\u2028c\u2029d\u0085e' }));
    assert.equal(line.split(/[\n\r\u2028\u2029\u0085]/u).length, 1, line);
    assert.equal(JSON.parse(line).path, '/a\nb\u2028c\u2029d\u0085e');
  });
});
