import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { baseName, hasWildcard, joinPath, matchesGlob, parentPath, resolveVirtualPath } from '../../src/protocol/paths.js';

describe('resolveVirtualPath', () => {
  test('relative paths resolve against the current directory', () => {
    assert.equal(resolveVirtualPath('/home/alice', 'docs/a.txt'), '/home/alice/docs/a.txt');
    assert.equal(resolveVirtualPath('/', 'a.txt'), '/a.txt');
    assert.equal(resolveVirtualPath('/a', '../b'), '/b');
  });

  test('absolute paths ignore the current directory', () => {
    assert.equal(resolveVirtualPath('/home/alice', '/etc/passwd'), '/etc/passwd');
    assert.equal(resolveVirtualPath('/x/y', '/'), '/');
  });

  test('an empty input is the current directory', () => {
    assert.equal(resolveVirtualPath('/x/y', ''), '/x/y');
    assert.equal(resolveVirtualPath('/', ''), '/');
  });

  test('".." beyond the root stays at "/"', () => {
    assert.equal(resolveVirtualPath('/', '..'), '/');
    assert.equal(resolveVirtualPath('/a', '../../../..'), '/');
    assert.equal(resolveVirtualPath('/a', '../../../../etc/passwd'), '/etc/passwd');
    assert.equal(resolveVirtualPath('/', '/../../x'), '/x');
  });

  test('"." and repeated slashes collapse; a trailing slash is dropped', () => {
    assert.equal(resolveVirtualPath('/a', './b/./c'), '/a/b/c');
    assert.equal(resolveVirtualPath('/a', '//b///c//'), '/b/c');
    assert.equal(resolveVirtualPath('/a/', 'b/'), '/a/b');
    assert.equal(resolveVirtualPath('/a', '.'), '/a');
  });

  test('names that only look like dots are ordinary names', () => {
    assert.equal(resolveVirtualPath('/', '.../..a/a..'), '/.../..a/a..');
    assert.equal(resolveVirtualPath('/', ' .. / . '), '/ .. / . ');
  });

  test('a path containing NUL is refused', () => {
    assert.equal(resolveVirtualPath('/', 'a\0b'), null);
    assert.equal(resolveVirtualPath('/a', '\0'), null);
    assert.equal(resolveVirtualPath('/a', '/etc/passwd\0.txt'), null);
    // A NUL can never reach the result, even through a (corrupt) current directory.
    assert.equal(resolveVirtualPath('/a\0b', 'c'), null);
    assert.equal(resolveVirtualPath('/a\0b', '/c'), '/c');
  });

  test('property: results are absolute, normalised, and a fixed point', () => {
    const segment = fc.oneof(fc.constantFrom('', '.', '..', 'a', 'b', '中文', '...', ' '), fc.string({ maxLength: 6 }));
    const pathText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.array(segment, { maxLength: 8 }).map((segments) => segments.join('/')),
    );
    fc.assert(
      fc.property(pathText, pathText, (cwd, input) => {
        const result = resolveVirtualPath(cwd, input);
        const resolvesCwd = !input.startsWith('/');
        if (input.includes('\0') || (resolvesCwd && cwd.includes('\0'))) {
          assert.equal(result, null);
          return;
        }
        assert.ok(result !== null);
        assert.ok(!result.includes('\0'));
        assert.ok(result.startsWith('/'), result);
        if (result !== '/') {
          for (const part of result.slice(1).split('/')) {
            assert.notEqual(part, '', result);
            assert.notEqual(part, '.', result);
            assert.notEqual(part, '..', result);
          }
        }
        assert.equal(resolveVirtualPath('/', result), result);
        assert.equal(resolveVirtualPath('/anywhere/else', result), result);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('matchesGlob', () => {
  test('* matches any run of characters, including none', () => {
    assert.equal(matchesGlob('report.txt', '*.txt'), true);
    assert.equal(matchesGlob('.txt', '*.txt'), true);
    assert.equal(matchesGlob('report.txt.bak', '*.txt'), false);
    assert.equal(matchesGlob('anything', '*'), true);
    assert.equal(matchesGlob('', '*'), true);
    assert.equal(matchesGlob('a\nb', 'a*b'), true);
  });

  test('? matches exactly one character', () => {
    assert.equal(matchesGlob('a1.txt', 'a?.txt'), true);
    assert.equal(matchesGlob('a.txt', 'a?.txt'), false);
    assert.equal(matchesGlob('a12.txt', 'a?.txt'), false);
    assert.equal(matchesGlob('中.txt', '?.txt'), true);
  });

  test('? matches one character outside the Basic Multilingual Plane', () => {
    assert.equal(matchesGlob('😀.txt', '?.txt'), true);
    assert.equal(matchesGlob('😀.txt', '??.txt'), false);
    assert.equal(matchesGlob('😀', '[😀x]'), true);
  });

  test('[abc] and [!abc] character classes, ranges', () => {
    assert.equal(matchesGlob('b.log', '[abc].log'), true);
    assert.equal(matchesGlob('d.log', '[abc].log'), false);
    assert.equal(matchesGlob('d.log', '[!abc].log'), true);
    assert.equal(matchesGlob('a.log', '[!abc].log'), false);
    assert.equal(matchesGlob('file7', 'file[0-9]'), true);
    assert.equal(matchesGlob('filex', 'file[0-9]'), false);
  });

  test('an unclosed [ is a literal bracket', () => {
    assert.equal(matchesGlob('[abc', '[abc'), true);
    assert.equal(matchesGlob('a', '[abc'), false);
  });

  test('regex metacharacters in patterns are literal', () => {
    assert.equal(matchesGlob('a.b', 'a.b'), true);
    assert.equal(matchesGlob('axb', 'a.b'), false);
    assert.equal(matchesGlob('a+b', 'a+b'), true);
    assert.equal(matchesGlob('aab', 'a+b'), false);
    assert.equal(matchesGlob('(x)|y', '(x)|y'), true);
    assert.equal(matchesGlob('y', '(x)|y'), false);
    assert.equal(matchesGlob('$^{1}', '$^{1}'), true);
    assert.equal(matchesGlob('a\\b', 'a\\b'), true);
    assert.equal(matchesGlob('ab', 'a\\b'), false);
    assert.equal(matchesGlob('x]', 'x]'), true);
    assert.equal(matchesGlob('price (1).txt', 'price (?).txt'), true);
  });

  test('a backslash inside a class is literal', () => {
    assert.equal(matchesGlob('\\', '[\\]'), true);
    assert.equal(matchesGlob('d', '[\\d]'), true);
    assert.equal(matchesGlob('5', '[\\d]'), false);
  });

  test('an invalid class range does not throw, it matches nothing', () => {
    assert.equal(matchesGlob('b', '[z-a]'), false);
  });

  test('property: a name always matches itself with metacharacters escaped as classes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (name) => {
        const pattern = [...name].map((c) => (c === '*' || c === '?' || c === '[' ? `[${c}]` : c)).join('');
        assert.equal(matchesGlob(name, pattern), true, JSON.stringify({ name, pattern }));
        assert.equal(matchesGlob(name, '*'), true);
        assert.equal(matchesGlob(name, '?'.repeat([...name].length)), true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('hasWildcard', () => {
  test('detects *, ? and [', () => {
    assert.equal(hasWildcard('*.txt'), true);
    assert.equal(hasWildcard('a?c'), true);
    assert.equal(hasWildcard('[ab]'), true);
    assert.equal(hasWildcard('plain.txt'), false);
    assert.equal(hasWildcard('braces{}.txt'), false);
    assert.equal(hasWildcard('close].txt'), false);
  });
});

describe('parentPath / baseName / joinPath', () => {
  test('parentPath', () => {
    assert.equal(parentPath('/a/b'), '/a');
    assert.equal(parentPath('/a'), '/');
    assert.equal(parentPath('/'), '/');
  });

  test('baseName', () => {
    assert.equal(baseName('/a/b.txt'), 'b.txt');
    assert.equal(baseName('/a'), 'a');
    assert.equal(baseName('/'), '');
  });

  test('joinPath', () => {
    assert.equal(joinPath('/', 'a'), '/a');
    assert.equal(joinPath('/a', 'b'), '/a/b');
    assert.equal(joinPath('/a/b', 'c d'), '/a/b/c d');
  });

  test('joinPath(parentPath(p), baseName(p)) rebuilds a normalised path', () => {
    for (const path of ['/a', '/a/b', '/x/y/z.txt', '/中文/文件']) {
      assert.equal(joinPath(parentPath(path), baseName(path)), path);
    }
  });
});
