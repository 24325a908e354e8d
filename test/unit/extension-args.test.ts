/** Argument parsers of the extension commands: time-vals, RANG, X-digests, MFMT, SITE CHMOD/UTIME/SYMLINK, link targets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChmod, parseDigestArguments, parseMfmt, parseRang, parseSiteUtime, parseSymlink } from '../../src/protocol/extension-args.js';
import { resolveLinkTarget } from '../../src/protocol/paths.js';
import { parseCompactTime, parseTimeVal } from '../../src/protocol/time-val.js';

const utc = (...parts: [number, number, number, number, number, number, number?]) => new Date(Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], parts[6] ?? 0));

describe('time-vals', () => {
  test('YYYYMMDDHHMMSS[.sss] is UTC; fractions keep milliseconds', () => {
    assert.deepEqual(parseTimeVal('20240102030405'), utc(2024, 1, 2, 3, 4, 5));
    assert.deepEqual(parseTimeVal('20240102030405.5'), utc(2024, 1, 2, 3, 4, 5, 500));
    assert.deepEqual(parseTimeVal('20240102030405.123456'), utc(2024, 1, 2, 3, 4, 5, 123));
    assert.equal(parseTimeVal('00500101000000')?.getUTCFullYear(), 50, 'years below 100 are not 19xx');
  });

  test('impossible or malformed times are refused, never rolled over', () => {
    for (const bad of ['20240230000000', '20241301000000', '20240100000000', '20240102240000', '20240102036000', '20240102030460', '2024010203040', '202401020304051', '20240102030405.', 'x0240102030405', ' 20240102030405', '']) {
      assert.equal(parseTimeVal(bad), null, bad);
    }
  });

  test('SITE UTIME times: 12 or 14 digits', () => {
    assert.deepEqual(parseCompactTime('202401020304'), utc(2024, 1, 2, 3, 4, 0));
    assert.deepEqual(parseCompactTime('20240102030405'), utc(2024, 1, 2, 3, 4, 5));
    for (const bad of ['2024010203', '2024010203045', '20240102030405.1', '202402300304']) assert.equal(parseCompactTime(bad), null, bad);
  });
});

describe('RANG', () => {
  test('a range with both ends included; RANG 1 0 resets', () => {
    assert.deepEqual(parseRang('0 49'), { start: 0, end: 49 });
    assert.deepEqual(parseRang(' 7  7 '), { start: 7, end: 7 });
    assert.equal(parseRang('1 0'), 'reset');
  });

  test('start > end, a missing or extra number, non-digits and unsafe integers are malformed', () => {
    for (const bad of ['5 3', '0', '0 1 2', 'a 1', '-1 4', '0 99999999999999999999', '']) assert.equal(parseRang(bad), null, bad);
  });
});

describe('X-digest arguments', () => {
  test('a path (spaces allowed), or a path and [start, end)', () => {
    assert.deepEqual(parseDigestArguments('file.txt'), { path: 'file.txt' });
    assert.deepEqual(parseDigestArguments('backup 2'), { path: 'backup 2' });
    assert.deepEqual(parseDigestArguments('my file.txt 0 10'), { path: 'my file.txt', range: { start: 0, end: 10 } });
  });

  test('an empty or reversed range and an empty argument are malformed', () => {
    for (const bad of ['f 5 5', 'f 6 2', '', '   ']) assert.equal(parseDigestArguments(bad), null, bad);
  });
});

describe('MFMT and SITE arguments', () => {
  test('MFMT time path: the path keeps its spaces', () => {
    assert.deepEqual(parseMfmt('20240102030405 a b.txt'), { time: utc(2024, 1, 2, 3, 4, 5), path: 'a b.txt' });
    for (const bad of ['2024 x', 'x', '20240102030405', '20240102030405 ', '20241302030405 f', ' 20240102030405 f']) assert.equal(parseMfmt(bad), null, bad);
  });

  test('SITE CHMOD keeps only the permission bits', () => {
    assert.deepEqual(parseChmod('755 f'), { mode: 0o755, path: 'f' });
    assert.deepEqual(parseChmod('4755 my file'), { mode: 0o755, path: 'my file' });
    assert.equal(parseChmod('7777 f')?.mode, 0o777);
    assert.equal(parseChmod('0 f')?.mode, 0);
    for (const bad of ['8 f', '755', '12345 f', 'rwx f', '']) assert.equal(parseChmod(bad), null, bad);
  });

  test('SITE UTIME: "time path" sets both times; "path atime mtime ctime UTC" sets atime and mtime', () => {
    assert.deepEqual(parseSiteUtime('20240102030405 my file'), { path: 'my file', modified: utc(2024, 1, 2, 3, 4, 5), accessed: utc(2024, 1, 2, 3, 4, 5) });
    assert.deepEqual(parseSiteUtime('202401020304 f'), { path: 'f', modified: utc(2024, 1, 2, 3, 4, 0), accessed: utc(2024, 1, 2, 3, 4, 0) });
    assert.deepEqual(parseSiteUtime('my file 20240101000000 20240102030405 20240103000000 utc'), {
      path: 'my file',
      accessed: utc(2024, 1, 1, 0, 0, 0),
      modified: utc(2024, 1, 2, 3, 4, 5),
    });
    for (const bad of ['2024 f', 'f', '20240102030405', 'f 20241301000000 20240102030405 20240103000000 UTC', 'f 20240102030405 20240102030405 UTC']) {
      assert.equal(parseSiteUtime(bad), null, bad);
    }
  });

  test('SITE SYMLINK target link: exactly two words', () => {
    assert.deepEqual(parseSymlink('docs/a.txt a-link'), { target: 'docs/a.txt', link: 'a-link' });
    for (const bad of ['a', 'a b c', '']) assert.equal(parseSymlink(bad), null, bad);
  });
});

describe('link targets', () => {
  test('a relative text is read from the link directory and may not climb above the root at any step', () => {
    assert.equal(resolveLinkTarget('/a/b', '../c'), '/a/c');
    assert.equal(resolveLinkTarget('/a', './x//y'), '/a/x/y');
    assert.equal(resolveLinkTarget('/a', 'x/../../y'), '/y');
    for (const [dir, target] of [['/a', '../../x'], ['/', '..'], ['/', '/etc/passwd'], ['/a', ''], ['/a', 'x\0y'], ['/', '../ftp-root/x']] as const) {
      assert.equal(resolveLinkTarget(dir, target), null, `${dir} ${target}`);
    }
  });
});
