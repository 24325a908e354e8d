/**
 * Shell-style wildcard patterns for LIST/NLST/STAT ("*.txt", "data-??.csv", "[a-c]*").
 *
 * A pattern is compiled once into a token list and matched by simulating its NFA over
 * all pattern positions at once: the set of live states is a bit set (state i: the first
 * i tokens have matched), and each name character moves every live state in a few word
 * operations (Shift-And). Nothing backtracks and no regular expression runs, so a match
 * costs O(name length x ceil(tokens / 32)) word operations: with the default caps
 * (limits.glob_max_length 255, so at most 8 words) about 2,000 for a 255-character name,
 * whatever the pattern. A backtracking regex on "*a*a*a*a*a*a*a*a*a*b" is exponential.
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

export interface CompiledGlob {
  readonly tokens: readonly Token[];
  /** How many "*", "?" and "[...]" the pattern has (what limits.glob_max_wildcards counts). */
  readonly wildcards: number;
  /** Bit i set: token i is a star. */
  readonly stars: Uint32Array;
  /** Per ASCII code, the tokens consuming that character (filled on first use). */
  readonly asciiMasks: Array<Uint32Array | undefined>;
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
  const stars = new Uint32Array(wordsFor(tokens.length));
  tokens.forEach((token, i) => {
    if (token.kind === 'star') setBit(stars, i);
  });
  return { tokens, wildcards, stars, asciiMasks: [] };
}

/** Words for the states 0..tokenCount ("all tokens matched" is a state too). */
function wordsFor(tokenCount: number): number {
  return (tokenCount >>> 5) + 1;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31);
}

function consumes(token: Token, char: string): boolean {
  switch (token.kind) {
    case 'literal':
      return token.char === char;
    case 'one':
    case 'star':
      return true;
    case 'class': {
      const code = char.codePointAt(0)!;
      const inside = token.singles.has(char) || token.ranges.some(([low, high]) => low <= code && code <= high);
      return inside !== token.negated;
    }
  }
}

/** The tokens that consume `char` (stars consume everything), as a bit set. */
function maskFor(glob: CompiledGlob, char: string): Uint32Array {
  const code = char.codePointAt(0)!;
  const cached = code < 128 ? glob.asciiMasks[code] : undefined;
  if (cached) return cached;
  const mask = new Uint32Array(glob.stars.length);
  glob.tokens.forEach((token, i) => {
    if (consumes(token, char)) setBit(mask, i);
  });
  if (code < 128) glob.asciiMasks[code] = mask;
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

/** Whether the whole name matches; O(name length x ceil(tokens / 32)) word operations, see the header. */
export function matchCompiledGlob(glob: CompiledGlob, name: string): boolean {
  const { tokens, stars } = glob;
  const words = stars.length;
  const states = new Uint32Array(words);
  setBit(states, 0);
  closeOverStars(states, stars);
  for (const char of name) {
    const mask = maskFor(glob, char);
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
