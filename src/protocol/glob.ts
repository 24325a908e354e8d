/**
 * Shell-style wildcard patterns for LIST/NLST/STAT ("*.txt", "data-??.csv", "[a-c]*").
 *
 * A pattern is compiled once into a token list and matched by simulating its NFA over
 * all pattern positions at once (a set of live states, never backtracking). Each name
 * character advances every live state by one step, so a match costs at most
 * O(name length x token count) steps with no recursion and no regular expression:
 * with the configured caps (limits.glob_max_length) that is at most 255 steps per name
 * character. A backtracking regex on "*a*a*a*a*a*a*a*a*a*b" is exponential instead.
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
  return { tokens, wildcards };
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

/** Adds state `i` and, through any stars (which may match nothing), the states after it. */
function addState(states: Uint8Array, tokens: readonly Token[], i: number): void {
  for (; i <= tokens.length && !states[i]; i++) {
    states[i] = 1;
    if (tokens[i]?.kind !== 'star') return;
  }
}

/** Whether the whole name matches; O(name length x token count), see the header. */
export function matchCompiledGlob(glob: CompiledGlob, name: string): boolean {
  const { tokens } = glob;
  // State i: the first i tokens have matched the name so far; tokens.length is "all matched".
  let current = new Uint8Array(tokens.length + 1);
  let next = new Uint8Array(tokens.length + 1);
  addState(current, tokens, 0);
  for (const char of name) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < tokens.length; i++) {
      if (!current[i] || !consumes(tokens[i]!, char)) continue;
      alive = true;
      // A star consumes the character and stays; every other token moves on.
      if (tokens[i]!.kind === 'star') addState(next, tokens, i);
      else addState(next, tokens, i + 1);
    }
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[tokens.length] === 1;
}
