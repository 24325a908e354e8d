/**
 * Wildcards in the last path segment of a `get`/`rm` URL or a `put` source ("dir/*.txt",
 * "log-??.gz", "[ab]*"), matched on this side against a listing, as lftp's mget does:
 * the server is never asked to expand them. The syntax and the matcher are the server's
 * own (src/protocol/glob.ts: "*", "?", "[...]", a "[" without "]" is literal), so
 * the client and the server agree on what a pattern means.
 */
import { isSafeName } from '../client/client.js';
import { FtpClientError } from '../client/errors.js';
import type { RemoteFile } from '../client/list-parser.js';
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

/**
 * The listing entries of `split.dir` whose names match, sorted; names that are not plain
 * names ("../x", "a/b") are left out, since they would reach beyond the folder. No match
 * is kind 'not-found', naming the pattern (as curl does).
 */
export function matchEntries(entries: readonly RemoteFile[], split: SplitPattern): RemoteFile[] {
  const byName = new Map(entries.filter((entry) => isSafeName(entry.name)).map((entry) => [entry.name, entry]));
  const names = matchNames(split.pattern, byName.keys());
  if (names.length === 0) throw new FtpClientError('not-found', `no remote file matches ${split.dir}${split.pattern}`);
  return names.map((name) => byName.get(name)!);
}
