/** Client-side wildcards for get/put/rm: which paths have one, and which names match. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchNames, splitPattern } from '../../src/cli/wildcards.js';

describe('client-side wildcards', () => {
  test('only the last segment counts; a lone "[" is no wildcard', () => {
    assert.deepEqual(splitPattern('dir/*.txt'), { dir: 'dir/', pattern: '*.txt' });
    assert.deepEqual(splitPattern('a/b/log-??.gz'), { dir: 'a/b/', pattern: 'log-??.gz' });
    assert.deepEqual(splitPattern('[ab]*'), { dir: '', pattern: '[ab]*' });
    assert.deepEqual(splitPattern('/abs/*'), { dir: '/abs/', pattern: '*' });
    assert.equal(splitPattern('dir/plain.txt'), null);
    assert.equal(splitPattern('d*r/plain.txt'), null, 'a wildcard in a folder name is a plain character');
    assert.equal(splitPattern('dir/'), null);
    assert.equal(splitPattern('a[1.txt'), null);
  });

  test('*, ? and classes; sorted; a leading dot only for a pattern that starts with one', () => {
    const names = ['b.txt', 'a.txt', 'a.bin', '.hidden.txt', 'ab.txt', 'c1.bin', 'c22.bin', 'x.TXT'];
    assert.deepEqual(matchNames('*.txt', names), ['a.txt', 'ab.txt', 'b.txt']);
    assert.deepEqual(matchNames('?.txt', names), ['a.txt', 'b.txt']);
    assert.deepEqual(matchNames('[ab].*', names), ['a.bin', 'a.txt', 'b.txt']);
    assert.deepEqual(matchNames('c?.bin', names), ['c1.bin']);
    assert.deepEqual(matchNames('[!a]*', names), ['b.txt', 'c1.bin', 'c22.bin', 'x.TXT']);
    assert.deepEqual(matchNames('.*', names), ['.hidden.txt']);
    assert.deepEqual(matchNames('*', []), []);
  });
});
