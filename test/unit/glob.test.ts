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

  test('agrees with the definition on non-ASCII and astral characters, also once the mask cache is full', () => {
    // One compiled glob per pattern sees every name, so its per-code-point cache fills up.
    const globs = ['*[é-ü😀]*', '[!Ā-ſ]?*ü', '*😀?[a-zé]', '[ü-é]*', '?*[!😀-😂]'].map(compileGlob);
    const wide = fc.oneof(fc.constantFrom('a', 'é', 'ü', 'Ā', 'ſ', '😀', '😁', '😂'), fc.integer({ min: 0x80, max: 0x2ffff }).filter((code) => code < 0xd800 || code > 0xdfff).map((code) => String.fromCodePoint(code)));
    fc.assert(
      fc.property(fc.array(wide, { maxLength: 12 }), (chars) => {
        for (const glob of globs) assert.equal(matchCompiledGlob(glob, chars.join('')), referenceMatch(glob.tokens, chars), JSON.stringify(chars));
      }),
      { numRuns: 3000 },
    );
    // The patterns opening with a star read every character of every name.
    assert.deepEqual([globs[0]!.masks.size, globs[2]!.masks.size], [4096, 4096]);
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
    // A bound with room for a loaded machine; a backtracking matcher would never end here.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  test('worst-case non-ASCII patterns within the default caps stay cheap per name', () => {
    // limits.glob_max_length 255 (UTF-16 units, "é" is one) and glob_max_wildcards 16.
    const literals = ('*' + 'é'.repeat(14)).repeat(16).padEnd(255, 'é');
    // One class of 80 non-ASCII ranges ("Ā-ā", "Ă-ă", ...): 244 units, 3 wildcards.
    const ranges = Array.from({ length: 80 }, (_, i) => `${String.fromCodePoint(0x100 + 2 * i)}-${String.fromCodePoint(0x101 + 2 * i)}`).join('');
    const oneClass = `*[!${ranges}]*é`;
    const distinct = (i: number) => Array.from({ length: 255 }, (_, j) => String.fromCodePoint(0x100 + i * 255 + j)).join('');
    const cases = [
      { pattern: literals, names: Array.from({ length: 200 }, (_, i) => 'é'.repeat(254) + String.fromCodePoint(0xe0 + (i % 16))) },
      { pattern: oneClass, names: Array.from({ length: 200 }, (_, i) => 'é'.repeat(254) + String.fromCodePoint(0x100 + i)) },
      // 51,000 distinct code points: far more than any per-glob cache holds.
      { pattern: literals, names: Array.from({ length: 200 }, (_, i) => distinct(i)) },
    ];
    for (const { pattern, names } of cases) {
      assert.ok(pattern.length <= 255, `pattern is ${pattern.length} units`);
      const glob = compileGlob(pattern);
      assert.ok(glob.wildcards <= 16, `pattern has ${glob.wildcards} wildcards`);
      // The best of a few rounds (the first one also warms the JIT up) keeps a loaded machine's stalls out.
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const started = performance.now();
        for (const name of names) matchCompiledGlob(glob, name);
        best = Math.min(best, (performance.now() - started) / names.length);
      }
      // A liveness bound, not a benchmark: ~30 us per name here, 400-600 us before masks were
      // cached for every code point and built from precomputed parts.
      assert.ok(best < 0.2, `${best.toFixed(3)} ms per name for ${JSON.stringify(pattern.slice(0, 20))}...`);
    }
    // The answers are still right.
    assert.equal(matchCompiledGlob(compileGlob(literals), 'é'.repeat(255)), true);
    assert.equal(matchCompiledGlob(compileGlob(oneClass), 'xé'), true);
    assert.equal(matchCompiledGlob(compileGlob(oneClass), 'Āé'), false);
    assert.equal(matchCompiledGlob(compileGlob(oneClass), 'Ÿé'), false);
    assert.equal(matchCompiledGlob(compileGlob(oneClass), 'Ơé'), true);
  });
});
