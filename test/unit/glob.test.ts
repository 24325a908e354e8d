import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, matchCompiledGlob } from '../../src/protocol/glob.js';
import { matchesGlob } from '../../src/protocol/paths.js';

type Token = ReturnType<typeof compileGlob>['tokens'][number];

/** The textbook recursive definition (exponential, fine on tiny inputs): the oracle. */
function referenceMatch(tokens: readonly Token[], name: readonly string[]): boolean {
  const [token, ...rest] = tokens;
  if (token === undefined) return name.length === 0;
  if (token.kind === 'star') return referenceMatch(rest, name) || (name.length > 0 && referenceMatch(tokens, name.slice(1)));
  const [char] = name;
  if (char === undefined) return false;
  if (token.kind === 'literal' && token.char !== char) return false;
  if (token.kind === 'class') {
    const code = char.codePointAt(0)!;
    const inside = token.singles.has(char) || token.ranges.some(([low, high]) => low <= code && code <= high);
    if (inside === token.negated) return false;
  }
  return referenceMatch(rest, name.slice(1));
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
