import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatListDate,
  formatListLine,
  formatMlsxLine,
  formatTimeVal,
  MLST_FACTS,
  mlstFeatLine,
  parseMlstOpts,
  permFact,
  parseListArguments,
  type EntryPermissions,
  type ListEntry,
  type MlstFact,
} from '../../src/protocol/listing.js';

const DAY_MS = 24 * 3600 * 1000;
const NOW = new Date(Date.UTC(2026, 10, 22, 12, 0, 0)); // 2026-11-22 12:00:00 UTC

const file: ListEntry = {
  name: 'notes.txt',
  type: 'file',
  size: 1234,
  mtime: new Date(Date.UTC(2026, 10, 21, 9, 2, 7)),
  mode: 0o644,
};

const dir: ListEntry = {
  name: 'pub',
  type: 'directory',
  size: 4096,
  mtime: new Date(Date.UTC(2019, 10, 21, 9, 2, 0)),
  mode: 0o755,
};

const ALL: EntryPermissions = { read: true, write: true, delete: true, rename: true, mkdir: true, list: true };
const NONE: EntryPermissions = { read: false, write: false, delete: false, rename: false, mkdir: false, list: false };
const READ_ONLY: EntryPermissions = { ...NONE, read: true, list: true };

describe('formatListLine', () => {
  test('a file', () => {
    assert.equal(formatListLine(file, NOW), '-rw-r--r--    1 ftp      ftp              1234 Nov 21 09:02 notes.txt');
  });

  test('a directory (two links, year form for an old date)', () => {
    assert.equal(formatListLine(dir, NOW), 'drwxr-xr-x    2 ftp      ftp              4096 Nov 21  2019 pub');
  });

  test('every permission bit maps to its letter', () => {
    const entry: ListEntry = { ...file, name: 'x', mode: 0o751, size: 0 };
    assert.equal(formatListLine(entry, NOW), '-rwxr-x--x    1 ftp      ftp                 0 Nov 21 09:02 x');
    assert.equal(formatListLine({ ...entry, mode: 0 }, NOW).slice(0, 10), '----------');
    assert.equal(formatListLine({ ...entry, mode: 0o777 }, NOW).slice(0, 10), '-rwxrwxrwx');
  });

  test('names with spaces are kept as they are, at the end of the line', () => {
    const line = formatListLine({ ...file, name: 'my file  .txt' }, NOW);
    assert.ok(line.endsWith(' 09:02 my file  .txt'), line);
  });

  test('a large size widens the column', () => {
    const line = formatListLine({ ...file, size: 1234567890123 }, NOW);
    assert.equal(line, '-rw-r--r--    1 ftp      ftp      1234567890123 Nov 21 09:02 notes.txt');
  });
});

describe('formatListDate', () => {
  test('recent: "Mon dd HH:MM" in UTC', () => {
    assert.equal(formatListDate(new Date(NOW.getTime() - DAY_MS), NOW), 'Nov 21 12:00');
    assert.equal(formatListDate(new Date(Date.UTC(2026, 0, 5, 3, 7)), new Date(Date.UTC(2026, 0, 6))), 'Jan  5 03:07');
  });

  test('older than six months: the year instead of the time', () => {
    assert.equal(formatListDate(new Date(Date.UTC(2019, 10, 21, 9, 2)), NOW), 'Nov 21  2019');
    assert.equal(formatListDate(new Date(NOW.getTime() - 200 * DAY_MS), NOW), 'May  6  2026');
  });

  test('the six-month boundary is 182 days', () => {
    const justInside = new Date(NOW.getTime() - 182 * DAY_MS + 60_000);
    const exactly = new Date(NOW.getTime() - 182 * DAY_MS);
    assert.equal(formatListDate(justInside, NOW), 'May 24 12:01');
    assert.equal(formatListDate(exactly, NOW), 'May 24  2026');
  });

  test('up to an hour in the future is still a time; further ahead is the year form', () => {
    assert.equal(formatListDate(new Date(NOW.getTime() + 30 * 60_000), NOW), 'Nov 22 12:30');
    assert.equal(formatListDate(new Date(NOW.getTime() + 59 * 60_000), NOW), 'Nov 22 12:59');
    assert.equal(formatListDate(new Date(NOW.getTime() + 61 * 60_000), NOW), 'Nov 22  2026');
    assert.equal(formatListDate(new Date(Date.UTC(2027, 0, 1)), NOW), 'Jan  1  2027');
  });
});

describe('formatTimeVal', () => {
  test('YYYYMMDDHHMMSS in UTC with zero padding', () => {
    assert.equal(formatTimeVal(new Date(Date.UTC(2026, 10, 21, 9, 2, 7))), '20261121090207');
    assert.equal(formatTimeVal(new Date(Date.UTC(2000, 0, 1, 0, 0, 0))), '20000101000000');
    assert.equal(formatTimeVal(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999))), '19991231235959');
  });

  test('years before 1000 are padded to four digits', () => {
    const date = new Date(Date.UTC(2000, 0, 2, 3, 4, 5));
    date.setUTCFullYear(999);
    assert.equal(formatTimeVal(date), '09990102030405');
  });
});

describe('permFact', () => {
  test('file: a d f r w', () => {
    assert.equal(permFact('file', ALL), 'adfrw');
    assert.equal(permFact('file', NONE), '');
    assert.equal(permFact('file', READ_ONLY), 'r');
    assert.equal(permFact('file', { ...NONE, write: true }), 'aw');
  });

  test('directory: c d e f l m p; e is always there', () => {
    assert.equal(permFact('directory', ALL), 'cdeflmp');
    assert.equal(permFact('directory', NONE), 'e');
    assert.equal(permFact('directory', READ_ONLY), 'el');
    assert.equal(permFact('directory', { ...NONE, delete: true }), 'dep');
  });
});

describe('formatMlsxLine', () => {
  const allFacts = new Set<MlstFact>(MLST_FACTS);

  test('a file with every fact', () => {
    assert.equal(
      formatMlsxLine(file, 'notes.txt', allFacts, ALL),
      'type=file;size=1234;modify=20261121090207;perm=adfrw;unix.mode=0644; notes.txt',
    );
  });

  test('a directory has no size fact', () => {
    assert.equal(
      formatMlsxLine(dir, 'pub', allFacts, READ_ONLY),
      'type=dir;modify=20191121090200;perm=el;unix.mode=0755; pub',
    );
  });

  test('cdir and pdir type overrides, display name used as given', () => {
    assert.equal(formatMlsxLine(dir, '/pub', new Set<MlstFact>(['type']), ALL, 'cdir'), 'type=cdir; /pub');
    assert.equal(formatMlsxLine(dir, '..', new Set<MlstFact>(['type']), ALL, 'pdir'), 'type=pdir; ..');
  });

  test('only the selected facts, always in the canonical order', () => {
    assert.equal(formatMlsxLine(file, 'notes.txt', new Set<MlstFact>(['size', 'type']), ALL), 'type=file;size=1234; notes.txt');
    assert.equal(formatMlsxLine(file, 'notes.txt', new Set<MlstFact>(['unix.mode', 'modify']), ALL), 'modify=20261121090207;unix.mode=0644; notes.txt');
  });

  test('no facts: just a space and the name', () => {
    assert.equal(formatMlsxLine(file, 'notes.txt', new Set<MlstFact>(), ALL), ' notes.txt');
  });

  test('unix.mode keeps special bits and drops the file-type bits', () => {
    const line = formatMlsxLine({ ...file, mode: 0o100000 | 0o4755 }, 'x', new Set<MlstFact>(['unix.mode']), ALL);
    assert.equal(line, 'unix.mode=04755; x');
  });
});

describe('mlstFeatLine', () => {
  test('every fact listed, selected ones starred', () => {
    assert.equal(mlstFeatLine(new Set<MlstFact>(MLST_FACTS)), 'MLST type*;size*;modify*;perm*;unix.mode*;');
    assert.equal(mlstFeatLine(new Set<MlstFact>(['type', 'size'])), 'MLST type*;size*;modify;perm;unix.mode;');
    assert.equal(mlstFeatLine(new Set<MlstFact>()), 'MLST type;size;modify;perm;unix.mode;');
  });
});

describe('parseMlstOpts', () => {
  test('known facts are kept, in canonical order', () => {
    assert.deepEqual([...parseMlstOpts('type;size;')], ['type', 'size']);
    assert.deepEqual([...parseMlstOpts('unix.mode;perm;')], ['perm', 'unix.mode']);
  });

  test('case-insensitive, unknown facts dropped, blanks tolerated', () => {
    assert.deepEqual([...parseMlstOpts('TYPE; Size ;media-type;UNIX.group;')], ['type', 'size']);
  });

  test('an empty argument selects nothing', () => {
    assert.equal(parseMlstOpts('').size, 0);
    assert.equal(parseMlstOpts(';;').size, 0);
  });
});

describe('parseListArguments', () => {
  const path = (arg: string) => parseListArguments(arg).path;
  const options = (arg: string) => parseListArguments(arg).options;

  test('option words before the path are taken as options, digits included (ncftp sends "NLST -1")', () => {
    assert.equal(path('-la'), '');
    assert.equal(path('-1'), '');
    assert.equal(path('-1a sub'), 'sub');
    assert.equal(path('-a dir'), 'dir');
    assert.equal(path('dir'), 'dir');
    assert.equal(path('-la -t x'), 'x');
    assert.equal(path('  -l   my dir'), 'my dir');
  });

  test('letters: -l long, -t by time, -r reverse, -R recursive; -a, -A, -1 and unknown letters change nothing', () => {
    assert.deepEqual(options(''), { long: false, byTime: false, reverse: false, recursive: false });
    assert.deepEqual(options('-la'), { long: true, byTime: false, reverse: false, recursive: false });
    assert.deepEqual(options('-al'), options('-la'));
    assert.deepEqual(options('-a -l'), options('-la'));
    assert.deepEqual(options('-ltr'), { long: true, byTime: true, reverse: true, recursive: false });
    assert.equal(options('-lR').recursive, true);
    assert.deepEqual(options('-1aAFCn'), options(''));
  });

  test('"--" ends the options and a lone "-" is a path, so a file named "-1" stays reachable', () => {
    assert.equal(path('-- -1'), '-1');
    assert.deepEqual(options('-- -l'), options(''));
    assert.equal(path('-l -- -la'), '-la');
    assert.equal(path('./-1'), './-1');
    assert.equal(path('-'), '-');
  });

  test('the path itself is kept verbatim, even with dashes or trailing spaces', () => {
    assert.equal(path('a-b'), 'a-b');
    assert.equal(path('-l my -x file '), 'my -x file ');
    assert.equal(path('-la/sub'), '-la/sub');
    assert.equal(path('-l-a'), '-l-a');
    assert.equal(path(''), '');
  });
});
