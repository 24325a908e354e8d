/**
 * Shell-style wildcard patterns for LIST/NLST/STAT ("*.txt", "data-??.csv", "[a-c]*").
 *
 * A pattern is compiled once into a token list and matched by simulating its NFA over
 * all pattern positions at once: the set of live states is a bit set (state i: the first
 * i tokens have matched), and each name character moves every live state in a few word
 * operations (Shift-And). Nothing backtracks and no regular expression runs.
 *
 * Each name character needs the mask of the tokens consuming it. A compiled glob keeps
 * those masks per code point (up to MASK_CACHE_LIMIT distinct ones), and builds a missing
 * one from precomputed parts: the "*" and "?" states, the literal states of that code
 * point (one map lookup) and one binary search per class. So a character costs about
 * ceil(tokens / 32) word operations plus, when its mask is not cached yet, one lookup and
 * a binary search per class, whatever the script of the name. With the default caps
 * (limits.glob_max_length 255, so at most 8 words; glob_max_wildcards 16, so at most 16
 * classes) a 255-character name costs a few thousand word operations, tens of
 * microseconds, for any pattern. A backtracking regex on "*a*a*a*a*a*a*a*a*a*b" is
 * exponential.
 *
 * Syntax: "*" any run of characters (also none), "?" one character, "[...]" one
 * character from the class ("a-z" ranges; "!" or "^" first negates; a "]" right after
 * the opening bracket or the negation is literal). A "[" without a closing "]" is a
 * literal "[". Everything else, backslash included, is literal. Characters are Unicode
 * code points, as a name is shown to the client.
 */

type Token =
  | { kind: 'literal'; char: string }
  | { kind: 'one' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; singles: Set<string>; ranges: Array<[number, number]> };

/** A class ready for membership tests: its characters as sorted, disjoint, non-adjacent code point intervals. */
interface ClassMatcher {
  readonly token: number;
  readonly negated: boolean;
  readonly lows: readonly number[];
  readonly highs: readonly number[];
}

/**
 * Distinct code points whose masks one compiled glob remembers: far more than a directory
 * of names in one script uses, and at most 4096 x 8 words (128 KiB, plus one small object
 * each) of masks. Past it a mask is built afresh for each character, which stays cheap.
 */
const MASK_CACHE_LIMIT = 4096;

export interface CompiledGlob {
  readonly tokens: readonly Token[];
  /** How many "*", "?" and "[...]" the pattern has (what limits.glob_max_wildcards counts). */
  readonly wildcards: number;
  /** Bit i set: token i is a star. */
  readonly stars: Uint32Array;
  /** Bit i set: token i consumes any character (a star or "?"). */
  readonly anyChar: Uint32Array;
  /** Per code point, the literal tokens of that character. */
  readonly literals: ReadonlyMap<number, Uint32Array>;
  readonly classes: readonly ClassMatcher[];
  /** Per code point, the tokens consuming it (filled on first use, up to MASK_CACHE_LIMIT entries). */
  readonly masks: Map<number, Uint32Array>;
  /** Where a mask is built once the cache is full (used before the next character is read). */
  readonly scratch: Uint32Array;
}

/** Parses a class starting at `open` (the "["); null when no "]" closes it. */
function parseClass(chars: readonly string[], open: number): { token: Token; end: number } | null {
  let i = open + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const first = i;
  const singles = new Set<string>();
  const ranges: Array<[number, number]> = [];
  for (; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === ']' && i > first) return { token: { kind: 'class', negated, singles, ranges }, end: i };
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      ranges.push([c.codePointAt(0)!, chars[i + 2]!.codePointAt(0)!]);
      i += 2;
    } else {
      singles.add(c);
    }
  }
  return null;
}

export function compileGlob(pattern: string): CompiledGlob {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  let wildcards = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      wildcards++;
      // "**" means the same as "*"; one state is enough.
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      wildcards++;
      tokens.push({ kind: 'one' });
    } else {
      const parsed = c === '[' ? parseClass(chars, i) : null;
      if (parsed) {
        wildcards++;
        tokens.push(parsed.token);
        i = parsed.end;
      } else {
        tokens.push({ kind: 'literal', char: c });
      }
    }
  }
  const words = wordsFor(tokens.length);
  const stars = new Uint32Array(words);
  const anyChar = new Uint32Array(words);
  const literals = new Map<number, Uint32Array>();
  const classes: ClassMatcher[] = [];
  tokens.forEach((token, i) => {
    if (token.kind === 'star') setBit(stars, i);
    if (token.kind === 'star' || token.kind === 'one') setBit(anyChar, i);
    if (token.kind === 'literal') {
      const code = token.char.codePointAt(0)!;
      let mask = literals.get(code);
      if (!mask) literals.set(code, (mask = new Uint32Array(words)));
      setBit(mask, i);
    }
    if (token.kind === 'class') classes.push(classMatcher(token, i));
  });
  return { tokens, wildcards, stars, anyChar, literals, classes, masks: new Map(), scratch: new Uint32Array(words) };
}

/** Merges a class's singles and ranges into sorted disjoint intervals (an inverted range like "z-a" holds nothing). */
function classMatcher(token: Extract<Token, { kind: 'class' }>, index: number): ClassMatcher {
  const intervals: Array<[number, number]> = [...token.singles].map((c) => [c.codePointAt(0)!, c.codePointAt(0)!]);
  intervals.push(...token.ranges.filter(([low, high]) => low <= high));
  intervals.sort((a, b) => a[0] - b[0]);
  const lows: number[] = [];
  const highs: number[] = [];
  for (const [low, high] of intervals) {
    const last = highs.length - 1;
    if (last >= 0 && low <= highs[last]! + 1) highs[last] = Math.max(highs[last]!, high);
    else {
      lows.push(low);
      highs.push(high);
    }
  }
  return { token: index, negated: token.negated, lows, highs };
}

/** Whether the class holds `code`: a binary search for the last interval starting at or before it. */
function classHolds(matcher: ClassMatcher, code: number): boolean {
  const { lows, highs } = matcher;
  let low = 0;
  let high = lows.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (lows[middle]! <= code) low = middle + 1;
    else high = middle - 1;
  }
  return high >= 0 && code <= highs[high]!;
}

/** Words for the states 0..tokenCount ("all tokens matched" is a state too). */
function wordsFor(tokenCount: number): number {
  return (tokenCount >>> 5) + 1;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31);
}

/** Writes into `mask` the tokens that consume the code point (stars and "?" consume everything). */
function buildMask(glob: CompiledGlob, code: number, mask: Uint32Array): Uint32Array {
  const { anyChar } = glob;
  const literal = glob.literals.get(code);
  for (let w = 0; w < mask.length; w++) mask[w] = anyChar[w]! | (literal ? literal[w]! : 0);
  for (const matcher of glob.classes) {
    if (classHolds(matcher, code) !== matcher.negated) setBit(mask, matcher.token);
  }
  return mask;
}

/** The tokens that consume the code point, as a bit set (valid until the next call when the cache is full). */
function maskFor(glob: CompiledGlob, code: number): Uint32Array {
  const cached = glob.masks.get(code);
  if (cached) return cached;
  if (glob.masks.size >= MASK_CACHE_LIMIT) return buildMask(glob, code, glob.scratch);
  const mask = buildMask(glob, code, new Uint32Array(glob.stars.length));
  glob.masks.set(code, mask);
  return mask;
}

/**
 * Adds, for every live state in front of a star, the state after that star (a star may
 * match nothing). Stars never follow each other (compileGlob merges them), so one shift
 * reaches every such state.
 */
function closeOverStars(states: Uint32Array, stars: Uint32Array): void {
  let carry = 0;
  for (let w = 0; w < states.length; w++) {
    const atStar = states[w]! & stars[w]!;
    states[w]! |= (atStar << 1) | carry;
    carry = atStar >>> 31;
  }
}

/** Whether the whole name matches; a few word operations per name character, see the header. */
export function matchCompiledGlob(glob: CompiledGlob, name: string): boolean {
  const { tokens, stars } = glob;
  const words = stars.length;
  const states = new Uint32Array(words);
  setBit(states, 0);
  closeOverStars(states, stars);
  for (let i = 0; i < name.length; ) {
    const code = name.codePointAt(i)!;
    i += code > 0xffff ? 2 : 1;
    const mask = maskFor(glob, code);
    // A consuming star stays where it is; every other consuming token moves on one state.
    let carry = 0;
    let alive = 0;
    for (let w = 0; w < words; w++) {
      const consuming = states[w]! & mask[w]!;
      const moving = consuming & ~stars[w]!;
      states[w] = (consuming & stars[w]!) | (moving << 1) | carry;
      carry = moving >>> 31;
      alive |= states[w]!;
    }
    if (alive === 0) return false;
    closeOverStars(states, stars);
  }
  const last = tokens.length;
  return (states[last >>> 5]! & (1 << (last & 31))) !== 0;
}
