import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseDosListLine,
  parseList,
  parseMlsd,
  parseMlsxLine,
  parseUnixListLine,
  type RemoteFile,
} from '../../src/client/list-parser.js';
import { formatListLine, formatMlsxLine, type EntryPermissions, type MlstFact } from '../../src/protocol/listing.js';

/** 2026-11-22 12:00:00 UTC: "Nov 21 09:02" is yesterday. */
const NOW = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date {
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
}

function must(entry: RemoteFile | null): RemoteFile {
  assert.ok(entry, 'expected the line to parse');
  return entry;
}

function byName(entries: RemoteFile[], name: string): RemoteFile {
  const found = entries.find((e) => e.name === name);
  assert.ok(found, `no entry named ${JSON.stringify(name)} in ${JSON.stringify(entries.map((e) => e.name))}`);
  return found;
}

// ---------------------------------------------------------------------------
// Sample listings, as the servers print them
// ---------------------------------------------------------------------------

const VSFTPD = [
  '-rw-r--r--    1 ftp      ftp          1234 Nov 21 09:02 file.txt',
  'drwxr-xr-x    2 0        0            4096 Mar 01  2019 pub',
  'lrwxrwxrwx    1 0        0               7 Jan 01  2020 latest -> pub/v2',
  '-rw-------    1 1001     1001    5368709120 Oct 03 23:59 dvd.iso',
].join('\r\n') + '\r\n';

const PROFTPD = [
  'drwxr-xr-x   3 alice    staff        4096 Oct 30 17:45 Photos',
  '-rw-r--r--   1 alice    staff      123456 Jan  5 12:00 report 2026.pdf',
  '-rw-r--r--   1 alice    staff          42 Feb 29  2024 leap.txt',
  '-rw-r--r--   1 alice    staff           0 Nov 21 09:02 trailing space ',
].join('\r\n') + '\r\n';

const PUREFTPD = [
  'total 16',
  'drwxr-xr-x    4 1000       1000             4096 Nov 20 18:11 .',
  'drwxr-xr-x    3 0          0                4096 Jan  2  2025 ..',
  '-rw-r--r--    1 1000       1000                6 Nov 21 09:02 hello.txt',
  '-rw-r--r--    1 1000       1000          1048576 Aug 14  2025 中文文件名.txt',
  'drwxr-xr-x    2 1000       1000             4096 Nov 21 09:02 Ünïcödé dir',
].join('\r\n') + '\r\n';

const FILEZILLA = [
  'drwxr-xr-x 1 ftp ftp 0 Nov 21 09:02 My Folder',
  '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a.txt',
  '-rw-r--r-- 1 ftp ftp 9876543210 Dec 24  2023 backup.tar.gz',
].join('\r\n') + '\r\n';

const BUSYBOX = [
  'total 8',
  'drwxr-xr-x    2 0        0             0 Nov 21 09:02 etc',
  '-rw-r--r--    1 0        0           133 Nov 21 09:02 busy.conf',
  'crw-rw-rw-    1 0        0        1,   3 Nov 21 09:02 null',
  'brw-rw----    1 0        6        8,   0 Nov 21 09:02 sda',
].join('\n') + '\n';

const NO_GROUP = [
  '-rw-r--r--   1 owner        2048 Nov 21 09:02 nogroup.txt',
  '-rw-r--r--   1 1000         2048 Nov 21 09:02 numeric owner.txt',
  'drwxr-xr-x   2 owner        4096 Jul  4  2021 old dir',
].join('\r\n');

const IIS = [
  '11-21-26  09:02AM       <DIR>          My Documents',
  '02-05-2019  11:30PM             1048576 big file.bin',
  '11-21-2026  21:02                  1234 24h.txt',
  '01-01-99  12:00AM                    0 midnight.txt',
  '12-31-26  12:15PM                  100 noon.txt',
].join('\r\n') + '\r\n';

const MLSD_PROFTPD = [
  'modify=20261121090200;perm=flcdmpe;type=cdir;unique=FD00U4A01;UNIX.group=1000;UNIX.mode=0755;UNIX.owner=1000; .',
  'modify=20261001000000;perm=flcdmpe;type=pdir;unique=FD00U4A00;UNIX.group=0;UNIX.mode=0755;UNIX.owner=0; ..',
  'modify=20261121090200;perm=adfrw;size=6;type=file;unique=FD00U4A02;UNIX.group=1000;UNIX.mode=0644;UNIX.owner=1000; hello.txt',
  'modify=20190301000000;perm=flcdmpe;type=dir;unique=FD00U4A03;UNIX.group=1000;UNIX.mode=0755;UNIX.owner=1000; pub',
  'modify=20200101000000;perm=adfrw;size=7;type=OS.unix=symlink;unique=FD00U4A04;UNIX.mode=0777; latest',
].join('\r\n') + '\r\n';

const MLSD_FERRY = [
  'type=cdir;modify=20261121090200;perm=cdeflmp;unix.mode=0755; /pub',
  'type=pdir;modify=20261120000000;perm=el;unix.mode=0755; /',
  'type=file;size=6;modify=20261121090200;perm=adfrw;unix.mode=0644; hello.txt',
  'type=dir;modify=20261121090200;perm=cdeflmp;unix.mode=0755; My Documents',
  'type=file;size=3;modify=20261121090200;perm=r;unix.mode=0444; name; with; semicolons=.txt',
  'type=file;size=0;modify=20261121090200;perm=r;unix.mode=0444;  leading space',
].join('\r\n') + '\r\n';

const MLSD_PUREFTPD = [
  'type=cdir;sizd=4096;modify=20261121090200;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=1000;unique=803g2a; .',
  'type=pdir;sizd=4096;modify=20261120000000;UNIX.mode=0755;UNIX.uid=0;UNIX.gid=0;unique=803g1; ..',
  'type=file;size=6;modify=20261121090200.123;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000;unique=803g2b; hello.txt',
  'type=dir;sizd=4096;modify=20261121090200;UNIX.mode=0755;UNIX.uid=1000;UNIX.gid=1000;unique=803g2c; 中文目录',
  'type=OS.unix=slink:/srv/ftp/hello.txt;modify=20261121090200;UNIX.mode=0777;unique=803g2d; hello-link',
].join('\n') + '\n';

// ---------------------------------------------------------------------------
// Unix LIST
// ---------------------------------------------------------------------------

describe('parseUnixListLine', () => {
  test('vsftpd file with an HH:MM date (this year)', () => {
    const line = '-rw-r--r--    1 ftp      ftp          1234 Nov 21 09:02 file.txt';
    assert.deepEqual(parseUnixListLine(line, NOW), {
      name: 'file.txt',
      type: 'file',
      size: 1234,
      modifiedAt: utc(2026, 11, 21, 9, 2),
      permissions: 'rw-r--r--',
      raw: line,
    });
  });

  test('vsftpd directory with numeric owners and a year date', () => {
    const e = must(parseUnixListLine('drwxr-xr-x    2 0        0            4096 Mar 01  2019 pub', NOW));
    assert.equal(e.name, 'pub');
    assert.equal(e.type, 'directory');
    assert.equal(e.size, 4096);
    assert.deepEqual(e.modifiedAt, utc(2019, 3, 1));
    assert.equal(e.permissions, 'rwxr-xr-x');
  });

  test('ProFTPD name with spaces and digits', () => {
    const e = must(parseUnixListLine('-rw-r--r--   1 alice    staff      123456 Jan  5 12:00 report 2026.pdf', NOW));
    assert.equal(e.name, 'report 2026.pdf');
    assert.equal(e.size, 123456);
    assert.deepEqual(e.modifiedAt, utc(2026, 1, 5, 12, 0));
  });

  test('FileZilla Server single-space columns', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a.txt', NOW));
    assert.equal(e.name, 'a.txt');
    assert.equal(e.size, 12);
    assert.deepEqual(e.modifiedAt, utc(2026, 11, 21, 9, 2));
  });

  test('symlink: name and target are split at " -> "', () => {
    const e = must(parseUnixListLine('lrwxrwxrwx 1 root root 7 Jan 1 2020 link -> target', NOW));
    assert.equal(e.name, 'link');
    assert.equal(e.type, 'symlink');
    assert.equal(e.target, 'target');
    assert.equal(e.size, 7);
    assert.deepEqual(e.modifiedAt, utc(2020, 1, 1));
    assert.equal(e.permissions, 'rwxrwxrwx');
  });

  test('symlink with spaces on both sides of the arrow, and without a shown target', () => {
    const e = must(parseUnixListLine('lrwxrwxrwx 1 root root 20 Nov 21 09:02 my link -> ../some dir/x -> y', NOW));
    assert.equal(e.name, 'my link');
    assert.equal(e.target, '../some dir/x -> y');
    const bare = must(parseUnixListLine('lrwxrwxrwx 1 root root 20 Nov 21 09:02 lonely', NOW));
    assert.equal(bare.name, 'lonely');
    assert.equal(bare.type, 'symlink');
    assert.equal(bare.target, undefined);
  });

  test('" -> " in a regular file name is kept verbatim', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 a b 1 Nov 21 09:02 a -> b.txt', NOW));
    assert.equal(e.name, 'a -> b.txt');
    assert.equal(e.type, 'file');
    assert.equal(e.target, undefined);
  });

  test('a name that itself looks like a size and a date', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 ftp ftp 5 Nov 21 09:02 12 Dec 24  2019 x', NOW));
    assert.equal(e.name, '12 Dec 24  2019 x');
    assert.equal(e.size, 5);
    assert.deepEqual(e.modifiedAt, utc(2026, 11, 21, 9, 2));
  });

  test('names keep inner, trailing and (one-separator layout) leading spaces and UTF-8', () => {
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 1 Nov 21 09:02 two  spaces ', NOW)).name, 'two  spaces ');
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 1 Nov 21 09:02  leading', NOW)).name, ' leading');
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 1 Mar 01  2019  leading', NOW)).name, ' leading');
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 9 Nov 21 09:02 中文文件名.txt', NOW)).name, '中文文件名.txt');
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 9 Nov 21 09:02 semi;colon=;x', NOW)).name, 'semi;colon=;x');
  });

  test('no group column (numeric and named owners)', () => {
    const a = must(parseUnixListLine('-rw-r--r--   1 owner        2048 Nov 21 09:02 nogroup.txt', NOW));
    assert.equal(a.name, 'nogroup.txt');
    assert.equal(a.size, 2048);
    const b = must(parseUnixListLine('-rw-r--r--   1 1000         2048 Nov 21 09:02 numeric owner.txt', NOW));
    assert.equal(b.name, 'numeric owner.txt');
    assert.equal(b.size, 2048);
    const c = must(parseUnixListLine('-rw-r--r--   1 0 12 Nov 21 09:02 tiny', NOW));
    assert.equal(c.size, 12);
    assert.equal(c.name, 'tiny');
  });

  test('device files have "major, minor" and no size; other special files are "unknown"', () => {
    const c = must(parseUnixListLine('crw-rw-rw-    1 0        0          1,   3 Nov 21 09:02 null', NOW));
    assert.equal(c.name, 'null');
    assert.equal(c.type, 'unknown');
    assert.equal(c.size, undefined);
    assert.deepEqual(c.modifiedAt, utc(2026, 11, 21, 9, 2));
    const b = must(parseUnixListLine('brw-rw---- 1 root disk 8,0 Mar 01  2019 sda', NOW));
    assert.equal(b.name, 'sda');
    assert.equal(b.size, undefined);
    assert.equal(must(parseUnixListLine('prw-r--r-- 1 0 0 0 Nov 21 09:02 fifo', NOW)).type, 'unknown');
    assert.equal(must(parseUnixListLine('srwxrwxrwx 1 0 0 0 Nov 21 09:02 sock', NOW)).type, 'unknown');
  });

  test('ACL, SELinux and macOS xattr markers; setuid and sticky bits', () => {
    assert.equal(must(parseUnixListLine('-rw-r--r--+ 1 alice staff 10 Nov 21 09:02 acl.txt', NOW)).permissions, 'rw-r--r--');
    assert.equal(must(parseUnixListLine('-rw-r--r--. 1 alice staff 10 Nov 21 09:02 se.txt', NOW)).name, 'se.txt');
    const mac = must(parseUnixListLine('drwxr-xr-x@ 5 alice staff 160 Nov 21 09:02 mac dir', NOW));
    assert.equal(mac.name, 'mac dir');
    assert.equal(mac.type, 'directory');
    assert.equal(must(parseUnixListLine('-rwsr-xr-t 1 root root 100 Nov 21 09:02 s', NOW)).permissions, 'rwsr-xr-t');
    assert.equal(must(parseUnixListLine('drwxrwxrwT 1 root root 100 Nov 21 09:02 t', NOW)).permissions, 'rwxrwxrwT');
  });

  test('month names are case-insensitive; day-first and ISO date styles', () => {
    assert.deepEqual(must(parseUnixListLine('-rw-r--r-- 1 a b 1 NOV 21 09:02 x', NOW)).modifiedAt, utc(2026, 11, 21, 9, 2));
    const dayFirst = must(parseUnixListLine('-rw-r--r-- 1 a b 10 21 Nov 09:02 dayfirst.txt', NOW));
    assert.equal(dayFirst.name, 'dayfirst.txt');
    assert.equal(dayFirst.size, 10);
    assert.deepEqual(dayFirst.modifiedAt, utc(2026, 11, 21, 9, 2));
    const iso = must(parseUnixListLine('-rw-r--r-- 1 alice staff 10 2026-11-21 09:02 iso name.txt', NOW));
    assert.equal(iso.name, 'iso name.txt');
    assert.deepEqual(iso.modifiedAt, utc(2026, 11, 21, 9, 2));
    const full = must(parseUnixListLine('-rw-r--r-- 1 alice staff 10 2026-11-21 09:02:07.123456789 +0100 full.txt', NOW));
    assert.equal(full.name, 'full.txt');
    assert.deepEqual(full.modifiedAt, utc(2026, 11, 21, 8, 2, 7, 123));
  });

  test('an impossible date leaves modifiedAt out but keeps the entry', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 a b 1 Feb 30  2019 x', NOW));
    assert.equal(e.name, 'x');
    assert.equal(e.modifiedAt, undefined);
    assert.equal(must(parseUnixListLine('-rw-r--r-- 1 a b 1 Nov 21 25:61 y', NOW)).modifiedAt, undefined);
  });

  test('"total N", blank and garbage lines are null', () => {
    for (const line of [
      'total 16',
      '',
      '   ',
      'hello world',
      '-rw-r--r--',
      '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02',
      '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 ',
      '-rw-r--r-- 1 ftp ftp 12 Foo 21 09:02 bad-month',
      'xrw-r--r-- 1 ftp ftp 12 Nov 21 09:02 bad-type',
      '-rw-r--r-- 1 ftp ftp twelve Nov 21 09:02 no-size',
      '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 two\nlines',
      '226 Transfer complete.',
    ]) {
      assert.equal(parseUnixListLine(line, NOW), null, JSON.stringify(line));
    }
  });

  test('a trailing CRLF is dropped from the name and from raw', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a.txt\r\n', NOW));
    assert.equal(e.name, 'a.txt');
    assert.equal(e.raw, '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 a.txt');
  });

  test('without `now`, an HH:MM date is still placed at most a day ahead of the clock', () => {
    const e = must(parseUnixListLine('-rw-r--r-- 1 ftp ftp 12 Jan  1 00:00 a.txt'));
    assert.ok(e.modifiedAt);
    assert.ok(e.modifiedAt.getTime() <= Date.now() + 24 * 3600 * 1000);
    assert.ok(e.modifiedAt.getTime() > Date.now() - 366 * 24 * 3600 * 1000);
  });
});

describe('year inference for "Mon DD HH:MM" dates', () => {
  const line = (date: string) => `-rw-r--r-- 1 ftp ftp 1 ${date} f`;
  const at = (date: string, now: Date) => must(parseUnixListLine(line(date), now)).modifiedAt;

  test('just after New Year: December is last year, January 1st is this year', () => {
    const now = utc(2027, 1, 1, 0, 30);
    assert.deepEqual(at('Dec 31 23:59', now), utc(2026, 12, 31, 23, 59));
    assert.deepEqual(at('Jan  1 00:10', now), utc(2027, 1, 1, 0, 10));
  });

  test('up to a day in the future is this year; more than a day is last year', () => {
    const now = utc(2027, 1, 1, 0, 30);
    assert.deepEqual(at('Jan  1 23:59', now), utc(2027, 1, 1, 23, 59));
    assert.deepEqual(at('Jan  2 00:30', now), utc(2027, 1, 2, 0, 30));
    assert.deepEqual(at('Jan  2 00:31', now), utc(2026, 1, 2, 0, 31));
    assert.deepEqual(at('Jun 15 08:00', now), utc(2026, 6, 15, 8, 0));
  });

  test('just before New Year: a server clock slightly ahead gives next year', () => {
    const now = utc(2026, 12, 31, 23, 50);
    assert.deepEqual(at('Jan  1 00:05', now), utc(2027, 1, 1, 0, 5));
    assert.deepEqual(at('Dec 31 23:49', now), utc(2026, 12, 31, 23, 49));
  });

  test('Feb 29 goes back to the latest leap year', () => {
    assert.deepEqual(at('Feb 29 12:00', utc(2027, 1, 1)), utc(2024, 2, 29, 12, 0));
    assert.deepEqual(at('Feb 29 12:00', utc(2028, 3, 1)), utc(2028, 2, 29, 12, 0));
  });

  test('an explicit year is taken as is, whatever `now` is', () => {
    assert.deepEqual(at('Dec 31  2030', utc(2027, 1, 1)), utc(2030, 12, 31));
  });
});

// ---------------------------------------------------------------------------
// DOS / IIS LIST
// ---------------------------------------------------------------------------

describe('parseDosListLine', () => {
  test('IIS directory, 2-digit year, AM', () => {
    const line = '11-21-26  09:02AM       <DIR>          My Documents';
    assert.deepEqual(parseDosListLine(line), {
      name: 'My Documents',
      type: 'directory',
      modifiedAt: utc(2026, 11, 21, 9, 2),
      raw: line,
    });
  });

  test('IIS file, 4-digit year, PM', () => {
    const e = must(parseDosListLine('02-05-2019  11:30PM             1048576 big file.bin'));
    assert.equal(e.name, 'big file.bin');
    assert.equal(e.type, 'file');
    assert.equal(e.size, 1048576);
    assert.deepEqual(e.modifiedAt, utc(2019, 2, 5, 23, 30));
  });

  test('24-hour times, 12AM/12PM and the 2-digit year pivot', () => {
    assert.deepEqual(must(parseDosListLine('11-21-2026  21:02                  1234 24h.txt')).modifiedAt, utc(2026, 11, 21, 21, 2));
    assert.deepEqual(must(parseDosListLine('01-01-99  12:00AM                    0 midnight.txt')).modifiedAt, utc(1999, 1, 1, 0, 0));
    assert.deepEqual(must(parseDosListLine('12-31-26  12:15PM                  100 noon.txt')).modifiedAt, utc(2026, 12, 31, 12, 15));
    assert.deepEqual(must(parseDosListLine('07-04-69  01:00PM                  100 pivot.txt')).modifiedAt, utc(2069, 7, 4, 13, 0));
    assert.deepEqual(must(parseDosListLine('07-04-70  01:00PM                  100 pivot.txt')).modifiedAt, utc(1970, 7, 4, 13, 0));
  });

  test('Windows `dir` style: slashes, "AM" after a space, thousands separators, links', () => {
    const big = must(parseDosListLine('11/21/2026  09:02 AM         1,234,567 commas.bin'));
    assert.equal(big.size, 1234567);
    assert.deepEqual(big.modifiedAt, utc(2026, 11, 21, 9, 2));
    const link = must(parseDosListLine('11/21/2026  09:02 AM    <SYMLINKD>     link dir [C:\\target dir]'));
    assert.equal(link.type, 'symlink');
    assert.equal(link.name, 'link dir');
    assert.equal(link.target, 'C:\\target dir');
    const junction = must(parseDosListLine('11/21/2026  09:02 AM    <JUNCTION>     Application Data [C:\\Users\\x\\AppData\\Roaming]'));
    assert.equal(junction.name, 'Application Data');
    assert.equal(junction.type, 'symlink');
  });

  test('names keep trailing spaces, UTF-8 and brackets of plain files', () => {
    assert.equal(must(parseDosListLine('11-21-26  09:02AM                 5 中文 [1].txt ')).name, '中文 [1].txt ');
  });

  test('garbage and impossible dates', () => {
    for (const line of ['', 'total 3', '11-21-26 09:02AM', '11-21-26  09:02AM       <DIR>', 'x1-21-26  09:02AM  <DIR> a', '11-21-262  09:02AM 1 a']) {
      assert.equal(parseDosListLine(line), null, JSON.stringify(line));
    }
    const bad = must(parseDosListLine('13-40-26  13:02PM                 1 odd.txt'));
    assert.equal(bad.name, 'odd.txt');
    assert.equal(bad.modifiedAt, undefined);
  });
});

// ---------------------------------------------------------------------------
// MLSD / MLST
// ---------------------------------------------------------------------------

describe('parseMlsxLine', () => {
  test('a Ferry file line', () => {
    const line = 'type=file;size=6;modify=20261121090200;perm=adfrw;unix.mode=0644; hello.txt';
    assert.deepEqual(parseMlsxLine(line), {
      name: 'hello.txt',
      type: 'file',
      size: 6,
      modifiedAt: utc(2026, 11, 21, 9, 2, 0),
      permissions: 'adfrw',
      raw: line,
    });
  });

  test('cdir and pdir are null', () => {
    assert.equal(parseMlsxLine('type=cdir;modify=20261121090200;perm=flcdmpe; .'), null);
    assert.equal(parseMlsxLine('type=pdir;modify=20261121090200;perm=flcdmpe; ..'), null);
    assert.equal(parseMlsxLine('Type=CDir; /pub'), null);
  });

  test('the name is everything after the first space: spaces, semicolons, "=" and leading spaces', () => {
    assert.equal(must(parseMlsxLine('type=file;size=1; my file; v2=final.txt')).name, 'my file; v2=final.txt');
    assert.equal(must(parseMlsxLine('type=file;size=1;  two leading')).name, ' two leading');
    assert.equal(must(parseMlsxLine('type=file;size=1; trailing ')).name, 'trailing ');
    assert.equal(must(parseMlsxLine('type=dir; 中文目录')).name, '中文目录');
  });

  test('fact names and type values are case-insensitive', () => {
    const e = must(parseMlsxLine('Type=File;Size=10;Modify=20261121090200;Perm=r;UNIX.mode=0644;UNIX.owner=1000; Mixed Case.TXT'));
    assert.equal(e.type, 'file');
    assert.equal(e.size, 10);
    assert.deepEqual(e.modifiedAt, utc(2026, 11, 21, 9, 2));
    assert.equal(e.permissions, 'r');
    assert.equal(e.name, 'Mixed Case.TXT');
    assert.equal(must(parseMlsxLine('TYPE=DIR; D')).type, 'directory');
  });

  test('symlink types', () => {
    const a = must(parseMlsxLine('type=OS.unix=symlink;size=7;modify=20200101000000; latest'));
    assert.equal(a.type, 'symlink');
    assert.equal(a.target, undefined);
    const b = must(parseMlsxLine('type=OS.unix=slink:/srv/ftp/Hello.txt;modify=20261121090200; hello-link'));
    assert.equal(b.type, 'symlink');
    assert.equal(b.target, '/srv/ftp/Hello.txt');
    assert.equal(must(parseMlsxLine('type=os.UNIX=SLINK; x')).type, 'symlink');
  });

  test('other types, missing type and missing facts are "unknown"', () => {
    assert.equal(must(parseMlsxLine('type=OS.unix=chr-1/3; null')).type, 'unknown');
    assert.equal(must(parseMlsxLine('size=3;modify=20261121090200; untyped')).type, 'unknown');
    const bare = must(parseMlsxLine(' no-facts'));
    assert.equal(bare.name, 'no-facts');
    assert.equal(bare.type, 'unknown');
  });

  test('modify with fractional seconds, and invalid modify values are left out', () => {
    assert.deepEqual(must(parseMlsxLine('type=file;modify=20261121090200.123; a')).modifiedAt, utc(2026, 11, 21, 9, 2, 0, 123));
    assert.deepEqual(must(parseMlsxLine('type=file;modify=20261121090200.5; a')).modifiedAt, utc(2026, 11, 21, 9, 2, 0, 500));
    assert.equal(must(parseMlsxLine('type=file;modify=20261321090200; a')).modifiedAt, undefined);
    assert.equal(must(parseMlsxLine('type=file;modify=2026; a')).modifiedAt, undefined);
    assert.equal(must(parseMlsxLine('type=file;size=-1; a')).size, undefined);
  });

  test('sizd is used for directories that report it', () => {
    assert.equal(must(parseMlsxLine('type=dir;sizd=4096; d')).size, 4096);
  });

  test('an MLST reply line with its leading space', () => {
    const e = must(parseMlsxLine(' type=file;size=12;modify=20261121090200; /pub/file.txt'));
    assert.equal(e.name, '/pub/file.txt');
    assert.equal(e.type, 'file');
    assert.equal(e.size, 12);
  });

  test('a missing final ";" is tolerated', () => {
    assert.equal(must(parseMlsxLine('type=file;size=2 x')).size, 2);
  });

  test('garbage is null', () => {
    for (const line of ['', 'hello world', 'type=file;size=1;', 'type=file; ', '=x; name', 'a;b; name', ';; name', '250 End', 'type=file; two\nlines']) {
      assert.equal(parseMlsxLine(line), null, JSON.stringify(line));
    }
  });
});

describe('parseMlsd', () => {
  test('ProFTPD style body: cdir/pdir dropped, everything else typed', () => {
    const entries = parseMlsd(MLSD_PROFTPD);
    assert.deepEqual(entries.map((e) => [e.name, e.type]), [
      ['hello.txt', 'file'],
      ['pub', 'directory'],
      ['latest', 'symlink'],
    ]);
    assert.deepEqual(byName(entries, 'pub').modifiedAt, utc(2019, 3, 1));
    assert.equal(byName(entries, 'hello.txt').permissions, 'adfrw');
    assert.equal(byName(entries, 'hello.txt').raw, MLSD_PROFTPD.split('\r\n')[2]);
  });

  test('Ferry style body', () => {
    const entries = parseMlsd(MLSD_FERRY);
    assert.deepEqual(entries.map((e) => e.name), ['hello.txt', 'My Documents', 'name; with; semicolons=.txt', ' leading space']);
    assert.equal(byName(entries, 'My Documents').type, 'directory');
    assert.equal(byName(entries, 'name; with; semicolons=.txt').size, 3);
  });

  test('Pure-FTPd style body (LF only, fractional seconds, slink target)', () => {
    const entries = parseMlsd(MLSD_PUREFTPD);
    assert.deepEqual(entries.map((e) => e.name), ['hello.txt', '中文目录', 'hello-link']);
    assert.deepEqual(byName(entries, 'hello.txt').modifiedAt, utc(2026, 11, 21, 9, 2, 0, 123));
    assert.equal(byName(entries, '中文目录').size, 4096);
    assert.equal(byName(entries, 'hello-link').target, '/srv/ftp/hello.txt');
  });

  test('"." and ".." with a dir type are dropped too; garbage lines are skipped', () => {
    const body = 'type=dir; .\r\ntype=dir; ..\r\n\r\nnonsense\r\ntype=file;size=1; ok\r\n';
    assert.deepEqual(parseMlsd(body).map((e) => e.name), ['ok']);
    assert.deepEqual(parseMlsd(''), []);
  });
});

// ---------------------------------------------------------------------------
// Whole LIST bodies
// ---------------------------------------------------------------------------

describe('parseList', () => {
  test('vsftpd', () => {
    const entries = parseList(VSFTPD, NOW);
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
      ['file.txt', 'file', 1234],
      ['pub', 'directory', 4096],
      ['latest', 'symlink', 7],
      ['dvd.iso', 'file', 5368709120],
    ]);
    assert.equal(byName(entries, 'latest').target, 'pub/v2');
    assert.deepEqual(byName(entries, 'dvd.iso').modifiedAt, utc(2026, 10, 3, 23, 59));
    for (const e of entries) assert.ok(!e.raw.includes('\r') && VSFTPD.includes(e.raw));
  });

  test('ProFTPD', () => {
    const entries = parseList(PROFTPD, NOW);
    assert.deepEqual(entries.map((e) => e.name), ['Photos', 'report 2026.pdf', 'leap.txt', 'trailing space ']);
    assert.deepEqual(byName(entries, 'leap.txt').modifiedAt, utc(2024, 2, 29));
    assert.deepEqual(byName(entries, 'Photos').modifiedAt, utc(2026, 10, 30, 17, 45));
  });

  test('Pure-FTPd: "total", "." and ".." are skipped; UTF-8 names', () => {
    const entries = parseList(PUREFTPD, NOW);
    assert.deepEqual(entries.map((e) => e.name), ['hello.txt', '中文文件名.txt', 'Ünïcödé dir']);
    assert.equal(byName(entries, '中文文件名.txt').size, 1048576);
    assert.deepEqual(byName(entries, '中文文件名.txt').modifiedAt, utc(2025, 8, 14));
  });

  test('FileZilla Server', () => {
    const entries = parseList(FILEZILLA, NOW);
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
      ['My Folder', 'directory', 0],
      ['a.txt', 'file', 12],
      ['backup.tar.gz', 'file', 9876543210],
    ]);
  });

  test('busybox with device files', () => {
    const entries = parseList(BUSYBOX, NOW);
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
      ['etc', 'directory', 0],
      ['busy.conf', 'file', 133],
      ['null', 'unknown', undefined],
      ['sda', 'unknown', undefined],
    ]);
  });

  test('no group column', () => {
    const entries = parseList(NO_GROUP, NOW);
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [
      ['nogroup.txt', 2048],
      ['numeric owner.txt', 2048],
      ['old dir', 4096],
    ]);
    assert.deepEqual(byName(entries, 'old dir').modifiedAt, utc(2021, 7, 4));
  });

  test('IIS / DOS', () => {
    const entries = parseList(IIS, NOW);
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
      ['My Documents', 'directory', undefined],
      ['big file.bin', 'file', 1048576],
      ['24h.txt', 'file', 1234],
      ['midnight.txt', 'file', 0],
      ['noon.txt', 'file', 100],
    ]);
  });

  test('mixed formats, bare LF / bare CR, blank lines and junk in one body', () => {
    const body = [
      '',
      'total 3',
      '-rw-r--r-- 1 ftp ftp 12 Nov 21 09:02 unix.txt',
      '   ',
      '11-21-26  09:02AM       <DIR>          dos dir',
      'this is not a listing line',
      'drwxr-xr-x 2 ftp ftp 0 Nov 21 09:02 .',
    ].join('\n') + '\r-rw-r--r-- 1 ftp ftp 1 Nov 21 09:02 after-cr\r\n';
    assert.deepEqual(parseList(body, NOW).map((e) => e.name), ['unix.txt', 'dos dir', 'after-cr']);
  });

  test('an empty body is an empty list', () => {
    assert.deepEqual(parseList('', NOW), []);
    assert.deepEqual(parseList('\r\n\r\n', NOW), []);
  });

  test('non-string input does not throw', () => {
    assert.deepEqual(parseList(undefined as unknown as string), []);
    assert.deepEqual(parseMlsd(null as unknown as string), []);
    assert.equal(parseUnixListLine(42 as unknown as string), null);
    assert.equal(parseDosListLine({} as unknown as string), null);
    assert.equal(parseMlsxLine(undefined as unknown as string), null);
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const TYPES = new Set(['file', 'directory', 'symlink', 'unknown']);

function assertWellFormed(entries: RemoteFile[]): void {
  for (const e of entries) {
    assert.equal(typeof e.name, 'string');
    assert.ok(e.name.length > 0, 'empty name');
    assert.ok(!/[\r\n]/.test(e.name), `CR/LF in name ${JSON.stringify(e.name)}`);
    assert.ok(!/[\r\n]/.test(e.raw), `CR/LF in raw ${JSON.stringify(e.raw)}`);
    assert.ok(TYPES.has(e.type));
    if (e.size !== undefined) assert.ok(Number.isFinite(e.size) && e.size >= 0);
    if (e.modifiedAt !== undefined) assert.ok(!Number.isNaN(e.modifiedAt.getTime()));
  }
}

/** Tokens that steer random lines deep into the parsers. */
const TOKENS = [
  '-rw-r--r--', 'drwxr-xr-x', 'lrwxrwxrwx', 'crw-rw-rw-', '-rw-r--r--+', '1', '0', '12', '4096', 'ftp', 'root',
  '1,', '3', 'Nov', 'feb', '29', '31', '21', '09:02', '24:61', '2019', '2026-11-21', '09:02:07.5', '+0100',
  '->', 'total', '<DIR>', '<SYMLINKD>', '11-21-26', '11/21/2026', '09:02AM', '13:00PM', '1,234', '.', '..',
  'type=file;', 'type=cdir;', 'type=OS.unix=slink:', 'size=1;', 'modify=20261121090200.1;', 'perm=r;', ';', '=',
  '\r', '\n', '\r\n', ' ', '\t', '中文', '\u2028', '',
];

const soup = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 })), { maxLength: 14 }),
    fc.constantFrom(' ', '  ', '', '\t'),
  )
  .map(([parts, sep]) => parts.join(sep));

/** Either a plausible value for a column or anything at all. */
const field = (...valid: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const gap = fc.constantFrom(' ', '  ', '    ', '\t', '');
const wildName = fc.string({ unit: 'binary', maxLength: 12 });

/** Near-valid Unix and DOS lines with random columns, gaps and names (CR, LF, " -> ", ...). */
const listish = fc.oneof(
  fc
    .tuple(
      field('-rw-r--r--', 'drwxr-xr-x', 'lrwxrwxrwx', 'crw-rw-rw-', '-rwsr-xr-t+'),
      field('1', '2', ''),
      field('ftp', '0', '1000', ''),
      field('ftp', '0', ''),
      field('0', '12', '1,   3', '99999999999999999999'),
      field('Nov 21', 'Feb 29', 'Jan  1', '21 Nov', '2026-11-21', 'Foo 1'),
      field('09:02', ' 2019', '23:59:59', '24:00', '09:02:07.5 +0100'),
      fc.array(gap, { minLength: 8, maxLength: 8 }),
      fc.oneof(wildName, fc.constantFrom('a -> b', '.', '..', ' x', 'x\r\ny', 'x\ry')),
    )
    .map(([perm, links, owner, group, size, day, time, g, name]) =>
      [perm, g[0], links, g[1], owner, g[2], group, g[3], size, g[4], day, g[5], time, ' ', name].join(''),
    ),
  fc
    .tuple(
      field('11-21-26', '02-05-2019', '11/21/2026', '13-40-26'),
      field('09:02AM', '12:00 PM', '21:02', '13:00PM'),
      field('<DIR>', '1234', '1,234,567', '<SYMLINKD>'),
      gap,
      gap,
      fc.oneof(wildName, fc.constantFrom('link [target]', ' x', 'x\ny')),
    )
    .map(([date, time, size, g1, g2, name]) => `${date}${g1}${time}${g2}${size} ${name}`),
);

const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  soup,
  listish,
  fc.array(listish, { maxLength: 5 }).map((lines) => lines.join('\r\n')),
);

describe('properties', () => {
  test('parseList never throws and yields well-formed entries', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: -8.64e15, max: 8.64e15 }), (text, t) => {
        const entries = parseList(text, new Date(t));
        assertWellFormed(entries);
        for (const e of entries) assert.ok(e.name !== '.' && e.name !== '..');
      }),
      { numRuns: 2000 },
    );
  });

  test('parseMlsd never throws and yields well-formed entries', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        assertWellFormed(parseMlsd(text));
      }),
      { numRuns: 2000 },
    );
  });

  test('single-line parsers never throw, even with an invalid `now`', () => {
    fc.assert(
      fc.property(anyText, (line) => {
        for (const e of [parseUnixListLine(line, new Date(NaN)), parseDosListLine(line), parseMlsxLine(line)]) {
          if (e) assertWellFormed([e]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  const entryName = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    .filter((s) => !/[\r\n\u2028\u2029]/.test(s) && s !== '.' && s !== '..');

  test("round trip with Ferry's own LIST lines", () => {
    const now = utc(2026, 11, 22, 12);
    fc.assert(
      fc.property(
        entryName,
        fc.constantFrom('file' as const, 'directory' as const),
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 0, 1) }),
        fc.integer({ min: 0, max: 0o777 }),
        (name, type, size, mtimeMs, mode) => {
          const mtime = new Date(mtimeMs);
          const line = formatListLine({ name, type, size, mtime, mode }, now);
          const e = must(parseUnixListLine(line, now));
          assert.equal(e.name, name);
          assert.equal(e.type, type);
          assert.equal(e.size, size);
          assert.equal(e.raw, line);
          assert.equal(e.permissions, line.slice(1, 10));
          const age = now.getTime() - mtimeMs;
          const recent = age < 182 * 24 * 3600 * 1000 && age > -3600 * 1000;
          const expected = recent
            ? utc(mtime.getUTCFullYear(), mtime.getUTCMonth() + 1, mtime.getUTCDate(), mtime.getUTCHours(), mtime.getUTCMinutes())
            : utc(mtime.getUTCFullYear(), mtime.getUTCMonth() + 1, mtime.getUTCDate());
          assert.deepEqual(e.modifiedAt, expected);
          assert.deepEqual(parseList(line, now), [e]);
        },
      ),
    );
  });

  test("round trip with Ferry's own MLSD lines", () => {
    const can: EntryPermissions = { read: true, write: true, delete: true, rename: true, mkdir: true, list: true };
    const facts = new Set<MlstFact>(['type', 'size', 'modify', 'perm', 'unix.mode']);
    fc.assert(
      fc.property(
        entryName,
        fc.constantFrom('file' as const, 'directory' as const),
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2099, 0, 1) }),
        (name, type, size, mtimeMs) => {
          const mtime = new Date(mtimeMs);
          const line = formatMlsxLine({ name, type, size, mtime, mode: 0o644 }, name, facts, can);
          const e = must(parseMlsxLine(line));
          assert.equal(e.name, name);
          assert.equal(e.type, type);
          assert.equal(e.size, type === 'file' ? size : undefined);
          assert.deepEqual(e.modifiedAt, new Date(Math.floor(mtimeMs / 1000) * 1000));
          assert.deepEqual(parseMlsd(`${line}\r\n`), [e]);
        },
      ),
    );
  });
});
