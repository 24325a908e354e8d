/**
 * Wildcards in the last path segment of a `get`/`rm` URL or a `put` source ("dir/*.txt",
 * "log-??.gz", "[ab]*"), matched on this side against a listing, as lftp's mget does:
 * the server is never asked to expand them. The syntax and the matcher are the server's
 * own (src/protocol/glob.ts: "*", "?", "[...]", a "[" without "]" is literal), so
 * the client and the server agree on what a pattern means.
 */
import { compileGlob, matchCompiledGlob } from '../protocol/glob.js';

export interface SplitPattern {
  /** Everything before the last segment, with its trailing "/" ("" for none). */
  dir: string;
  /** The last segment, holding at least one wildcard. */
  pattern: string;
}

/** The directory and pattern of a path whose last segment has a wildcard; null when it has none. */
export function splitPattern(path: string): SplitPattern | null {
  const slash = path.lastIndexOf('/');
  const pattern = path.slice(slash + 1);
  if (pattern === '' || compileGlob(pattern).wildcards === 0) return null;
  return { dir: path.slice(0, slash + 1), pattern };
}

/**
 * The names that match, sorted (a listing's order is the server's whim). As in a shell,
 * a leading "." is matched only by a pattern that starts with one: "*" leaves out
 * ".hidden", ".*" takes it.
 */
export function matchNames(pattern: string, names: Iterable<string>): string[] {
  const glob = compileGlob(pattern);
  const dotsToo = pattern.startsWith('.');
  return [...names].filter((name) => (dotsToo || !name.startsWith('.')) && matchCompiledGlob(glob, name)).sort();
}
