/**
 * ~/.netrc lookup, read the way curl reads it: "machine HOST login USER password PASS"
 * entries, a "default" entry, and "macdef" blocks skipped. Pure parsing plus one read.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NetrcEntry {
  machine: string | null; // null for "default"
  login?: string;
  password?: string;
}

export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  // macdef bodies run to the next blank line; they are not credentials.
  const withoutMacros = text.replace(/(^|\s)macdef\s+\S+[^\n]*\n(?:[^\n]*\S[^\n]*\n?)*/g, '$1');
  const tokens = withoutMacros.split(/\s+/).filter(Boolean);
  let current: NetrcEntry | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === 'machine') {
      current = { machine: tokens[++i] ?? '' };
      entries.push(current);
    } else if (token === 'default') {
      current = { machine: null };
      entries.push(current);
    } else if (current && (token === 'login' || token === 'password' || token === 'account')) {
      const value = tokens[++i];
      if (token !== 'account' && value !== undefined) current[token] = value;
    }
  }
  return entries;
}

/** The entry for a host (and user, when given), falling back to "default". */
export function findNetrc(entries: NetrcEntry[], host: string, user?: string): NetrcEntry | undefined {
  const matches = (entry: NetrcEntry) => user === undefined || entry.login === undefined || entry.login === user;
  return entries.find((e) => e.machine === host && matches(e)) ?? entries.find((e) => e.machine === null && matches(e));
}

/** Reads $NETRC or ~/.netrc; a missing file is no entries. */
export function readNetrc(): NetrcEntry[] {
  const path = process.env.NETRC ?? join(homedir(), '.netrc');
  try {
    return parseNetrc(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}
