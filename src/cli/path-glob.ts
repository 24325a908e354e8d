/**
 * Globs over relative paths for `ferry mirror --include/--exclude`, read as rsync and
 * .gitignore read them: "*", "?" and "[...]" within one path segment (src/protocol/glob.ts,
 * which is linear), "**" as a whole segment for any number of segments, none included. A
 * pattern without a "/" matches a name at any depth ("*.tmp" matches "a.tmp" and
 * "x/y/a.tmp"); one with a "/" matches the whole relative path, and a leading "/" anchors
 * a plain name at the top ("/a.txt"); a trailing "/" matches folders only. (Node 20's
 * path.matchesGlob is experimental.)
 */
import { compileGlob, matchCompiledGlob, type CompiledGlob } from '../protocol/glob.js';

/** A compiled pattern: true when `path` ("sub/a.txt") matches. */
export type PathMatcher = (path: string, isDirectory: boolean) => boolean;

type Segment = CompiledGlob | 'globstar';

export function compilePathGlob(pattern: string): PathMatcher {
  const directoriesOnly = pattern.endsWith('/');
  const anchored = pattern.replace(/\/+$/, '').includes('/');
  const segments: Segment[] = pattern
    .split('/')
    .filter((part) => part !== '')
    .map((part) => (part === '**' ? 'globstar' : compileGlob(part)));
  if (!anchored) segments.unshift('globstar');
  return (path, isDirectory) => (isDirectory || !directoriesOnly) && matchSegments(segments, path.split('/'));
}

/** Simulates the segment automaton: the set of pattern positions reachable after each name. */
function matchSegments(segments: readonly Segment[], names: readonly string[]): boolean {
  // A globstar may match no segment: whoever stands on one also stands after it.
  const close = (states: Set<number>): Set<number> => {
    for (const i of states) if (segments[i] === 'globstar') states.add(i + 1);
    return states;
  };
  let states = close(new Set([0]));
  for (const name of names) {
    const next = new Set<number>();
    for (const i of states) {
      const segment = segments[i];
      if (segment === 'globstar') next.add(i);
      else if (segment && matchCompiledGlob(segment, name)) next.add(i + 1);
    }
    if (next.size === 0) return false;
    states = close(next);
  }
  return states.has(segments.length);
}

/**
 * The mirror's filter: an entry matching an --exclude is left out (a folder with all in
 * it); with --include given, a file must match one of them. Folders are always walked,
 * so "--include '**\/*.txt'" finds text files at any depth.
 */
export function mirrorFilter(includes: readonly string[], excludes: readonly string[]): (path: string, isDirectory: boolean) => boolean {
  const include = includes.map(compilePathGlob);
  const exclude = excludes.map(compilePathGlob);
  return (path, isDirectory) => {
    if (exclude.some((matches) => matches(path, isDirectory))) return false;
    return isDirectory || include.length === 0 || include.some((matches) => matches(path, false));
  };
}
