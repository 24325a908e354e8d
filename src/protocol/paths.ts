/**
 * Virtual paths: what the client sees. Always absolute, always rooted at "/", never
 * containing "." or ".." segments, so a storage backend can join them to its root
 * without any chance of escaping it.
 */
import { posix } from 'node:path';
import { compileGlob, matchCompiledGlob } from './glob.js';

/**
 * Resolves a client-supplied path against the current directory. ".." at the root
 * stays at the root (as on a Unix "/"). Returns null for a path containing NUL,
 * which no file system accepts and which could truncate a name in native code.
 */
export function resolveVirtualPath(cwd: string, input: string): string | null {
  const joined = input.startsWith('/') ? input : `${cwd}/${input}`;
  if (joined.includes('\0')) return null;
  const parts: string[] = [];
  for (const segment of joined.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  return '/' + parts.join('/');
}

/**
 * Where a relative link text leads from a virtual directory, or null when it is
 * absolute, contains NUL, or climbs above "/" at any step (unlike resolveVirtualPath,
 * which keeps ".." at the root: a link text is read by the kernel, which would not).
 */
export function resolveLinkTarget(dir: string, target: string): string | null {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return null;
  const parts = dir.split('/').filter((segment) => segment !== '');
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') parts.push(segment);
    else if (parts.pop() === undefined) return null;
  }
  return '/' + parts.join('/');
}

/** "/a/b" -> "/a"; "/" -> "/". */
export function parentPath(path: string): string {
  return posix.dirname(path);
}

/** "/a/b" -> "b"; "/" -> "". */
export function baseName(path: string): string {
  return posix.basename(path);
}

/** Joins a virtual directory and a single name. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when a name has shell-style wildcards that LIST/NLST expand ("*.txt"). */
export function hasWildcard(name: string): boolean {
  return /[*?[]/.test(name);
}

/** Matches a name against a glob with *, ? and [...] classes (no path separators); linear, see glob.ts. */
export function matchesGlob(name: string, pattern: string): boolean {
  return matchCompiledGlob(compileGlob(pattern), name);
}
