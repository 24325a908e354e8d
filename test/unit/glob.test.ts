import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, matchCompiledGlob } from '../../src/protocol/glob.js';
import { matchesGlob } from '../../src/protocol/paths.js';

type Token = ReturnType<typeof compileGlob>['tokens'][number];

/** The textbook recursive definition, memoised (so longer inputs stay cheap): the oracle. */
function referenceMatch(tokens: readonly Token[], name: readonly string[]): boolean {
  const memo = new Map<number, boolean>();
  const match = (t: number, n: number): boolean => {
    const key = t * (name.length + 1) + n;
    let result = memo.get(key);
    if (result === undefined) {
      result = step(t, n);
      memo.set(key, result);
    }
    return result;
  };
  const step = (t: number, n: number): boolean => {
    const token = tokens[t];
    if (token === undefined) return n === name.length;
    if (token.kind === 'star') return match(t + 1, n) || (n < name.length && match(t, n + 1));
    const char = name[n];
    if (char === undefined) return false;
    if (token.kind === 'literal' && token.char !== char) return false;
    if (token.kind === 'class') {
      const code = char.codePointAt(0)!;
      const inside = token.singles.has(char) || token.ranges.some(([low, high]) => low <= code && code <= high);
      if (inside === token.negated) return false;
    }
    return match(t + 1, n + 1);
  };
  return match(0, 0);
}

/** A regex for patterns made of literals, "*" and "?" only: an independent second oracle. */
function regexFor(pattern: string): RegExp {
  const body = Array.from(pattern, (c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'su');
}

const patternChars = fc.constantFrom('a', 'b', '-', '*', '?', '[', ']', '!', '^');
const nameChars = fc.constantFrom('a', 'b', 'c', '-', ']', '!', '^', '[');

describe('glob matching', () => {
  test('agrees with the recursive definition on small inputs', () => {
    fc.assert(
      fc.property(fc.string({ unit: patternChars, maxLength: 8 }), fc.string({ unit: nameChars, maxLength: 8 }), (pattern, name) => {
        const glob = compileGlob(pattern);
        assert.equal(matchCompiledGlob(glob, name), referenceMatch(glob.tokens, Array.from(name)), `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('agrees with the definition on patterns longer than one 32-state word', () => {
    const longChars = fc.oneof({ arbitrary: fc.constantFrom('a', 'b'), weight: 12 }, { arbitrary: fc.constantFrom('*', '?', '[ab]', '[!a]'), weight: 1 });
    fc.assert(
      fc.property(fc.array(longChars, { minLength: 30, maxLength: 120 }), fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 130 }), (parts, name) => {
        const glob = compileGlob(parts.join(''));
        assert.equal(matchCompiledGlob(glob, name), referenceMatch(glob.tokens, Array.from(name)), `${JSON.stringify(parts.join(''))} vs ${JSON.stringify(name)}`);
      }),
      { numRuns: 1000 },
    );
    // Names that do match long patterns (random ones rarely do).
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 40, maxLength: 120 }), fc.array(fc.nat(), { maxLength: 4 }), (name, holes) => {
        const chars = Array.from(name);
        for (const hole of holes) chars[hole % chars.length] = '?';
        assert.equal(matchesGlob(name, chars.join('')), true);
        assert.equal(matchesGlob(name + 'a', chars.join('')), false);
        assert.equal(matchesGlob(name + 'ab', chars.join('') + '*b'), true);
      }),
      { numRuns: 300 },
    );
  });

  test('agrees with a regular expression for patterns of *, ? and literals', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?'), maxLength: 10 }), fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }), (pattern, name) => {
        assert.equal(matchesGlob(name, pattern), regexFor(pattern).test(name), `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('classes: ranges, ! and ^ negation, a leading ] is literal, a trailing - is literal', () => {
    assert.equal(matchesGlob('m', '[a-z]'), true);
    assert.equal(matchesGlob('M', '[a-z]'), false);
    assert.equal(matchesGlob('M', '[^a-z]'), true);
    assert.equal(matchesGlob('m', '[!a-z]'), false);
    assert.equal(matchesGlob(']', '[]a]'), true);
    assert.equal(matchesGlob('a', '[]a]'), true);
    assert.equal(matchesGlob(']', '[!]a]'), false);
    assert.equal(matchesGlob('-', '[a-]'), true);
    assert.equal(matchesGlob('b', '[z-a]'), false);
    assert.equal(matchesGlob('[!', '[!'), true);
  });

  test('counts wildcards as written, and treats ** as one star', () => {
    const glob = compileGlob('**a?[bc]x');
    assert.equal(glob.wildcards, 4);
    assert.equal(glob.tokens.filter((token) => token.kind === 'star').length, 1);
    assert.equal(compileGlob('[unclosed').wildcards, 0);
  });

  test('a pattern that makes a backtracking regex run for seconds is answered at once', () => {
    // A backtracking regex needs ~4 s for this on a 40-character name (and grows
    // exponentially with it); the state-set walk needs 40 x 19 steps.
    const started = Date.now();
    assert.equal(matchesGlob('a'.repeat(40), '*a*a*a*a*a*a*a*a*a*b'), false);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    // Far beyond any file name, still a few million steps.
    assert.equal(matchesGlob('a'.repeat(100_000), '*a*a*a*a*a*a*a*a*a*b'), false);
    assert.equal(matchesGlob('a'.repeat(100_000) + 'b', '*a*a*a*a*a*a*a*a*a*b'), true);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });
});
