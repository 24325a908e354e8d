/** `ferry mirror --include/--exclude` globs over relative paths, and the filter built from them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePathGlob, mirrorFilter } from '../../src/cli/path-glob.js';

function matches(pattern: string, path: string, isDirectory = false): boolean {
  return compilePathGlob(pattern)(path, isDirectory);
}

describe('compilePathGlob', () => {
  test('"*" and "?" stay within one segment; a pattern with a "/" matches the whole path', () => {
    assert.ok(matches('*.txt', 'a.txt'));
    assert.ok(!matches('/*.txt', 'sub/a.txt'), '* does not cross /');
    assert.ok(matches('/*.txt', 'a.txt'), 'a leading / anchors at the top');
    assert.ok(matches('sub/*.txt', 'sub/a.txt'));
    assert.ok(!matches('sub/*.txt', 'x/sub/a.txt'), 'a pattern with a / is anchored');
    assert.ok(!matches('sub/*.txt', 'sub/deeper/a.txt'));
    assert.ok(matches('data-??.csv', 'data-01.csv'));
    assert.ok(!matches('data-??.csv', 'data-1.csv'));
    assert.ok(matches('[a-c]*', 'beta'));
    assert.ok(!matches('a', 'ab'), 'no prefix matches');
    assert.ok(!matches('sub', 'sub/a.txt'), 'a folder pattern does not match its contents by itself');
  });

  test('a pattern without a "/" matches a name at any depth (rsync, .gitignore)', () => {
    assert.ok(matches('*.tmp', 'x/y/a.tmp'));
    assert.ok(matches('cache/', 'a/b/cache', true));
    assert.ok(!matches('*.tmp', 'x.tmp/a.txt'), 'the last name, not a folder above it');
  });

  test('"**" spans any number of segments, none included', () => {
    assert.ok(matches('**/*.tmp', 'a.tmp'));
    assert.ok(matches('**/*.tmp', 'x/y/z/a.tmp'));
    assert.ok(!matches('**/*.tmp', 'x/a.tmpx'));
    assert.ok(matches('sub/**', 'sub/a'));
    assert.ok(matches('sub/**', 'sub/a/b/c'));
    assert.ok(matches('a/**/b', 'a/b'));
    assert.ok(matches('a/**/b', 'a/x/y/b'));
    assert.ok(!matches('a/**/b', 'a/x/y/c'));
    assert.ok(matches('**/**/x', 'x'), 'consecutive ** collapse');
    assert.ok(matches('**', 'anything/at/all'));
  });

  test('a trailing "/" matches folders only', () => {
    assert.ok(matches('cache/', 'cache', true));
    assert.ok(!matches('cache/', 'cache', false));
    assert.ok(matches('**/cache/', 'a/b/cache', true));
    assert.ok(matches('cache', 'cache', false));
  });

  test('a long path against many "**" stays fast (no backtracking)', () => {
    const path = Array.from({ length: 200 }, () => 'a').join('/');
    const pattern = `${Array.from({ length: 30 }, () => '**/a').join('/')}/b`;
    assert.ok(!matches(pattern, path));
  });
});

describe('mirrorFilter', () => {
  test('excludes win, on files and folders; includes apply to files only; no includes means everything', () => {
    const filter = mirrorFilter(['**/*.txt'], ['secret/', '**/skip-*']);
    assert.ok(filter('a.txt', false));
    assert.ok(filter('sub/deeper/a.txt', false));
    assert.ok(!filter('a.bin', false), 'not included');
    assert.ok(filter('sub', true), 'folders are walked whatever the includes say');
    assert.ok(!filter('secret', true), 'an excluded folder');
    assert.ok(mirrorFilter([], ['secret/'])('secret', false), 'secret/ names folders only');
    assert.ok(!filter('sub/skip-me.txt', false), 'exclude beats include');
    const everything = mirrorFilter([], []);
    assert.ok(everything('x/y.bin', false) && everything('x', true));
  });
});
