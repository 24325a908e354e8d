/**
 * Which names from a directory listing may become a path under a folder, and whether a
 * resolved path stays inside it. A hostile or broken server can list "..", "../x",
 * "/etc/cron.d/x", "C:x" or names with control characters; joined naively they write
 * outside the target folder (basic-ftp CVE-2026-27699). The same rule applies to local
 * names on their way to a server, so neither side ever sees a name it would read as a
 * path.
 */
import { isAbsolute, relative, sep } from 'node:path';

/**
 * Why `name` cannot be used as one path segment, or undefined when it can. Refused
 * everywhere: empty, "." and "..", "/" or "\", any control character (C0, CR, LF, NUL,
 * DEL) and a leading drive letter ("C:"). On Windows also any ":" (drive letters and
 * alternate data streams) and names of only dots and spaces (Windows drops trailing
 * dots and spaces, so ".. " is "..").
 */
export function unsafeNameReason(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'not a name';
  if (/[/\\]/.test(name)) return 'contains a path separator';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (platform === 'win32' && name.includes(':')) return 'contains ":"';
  if (platform === 'win32' && /^[. ]+$/.test(name)) return 'only dots and spaces';
  return undefined;
}

/** True when `path` (absolute) is `root` or below it; both already resolved. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}
