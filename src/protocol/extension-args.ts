/**
 * The argument syntax of the extension commands: RANG, the X-digest commands (XCRC,
 * XMD5, XSHA1, XSHA256), MFMT, SITE CHMOD, SITE UTIME and SITE SYMLINK. Pure code;
 * null means "malformed", which the commands answer with 501.
 */
import { parseCompactTime, parseTimeVal } from './time-val.js';

/** A byte range, both ends included (RANG's convention: "RANG 0 1" is two bytes). */
export interface ByteRange {
  start: number;
  end: number;
}

const DIGITS = /^\d+$/;

function safeInteger(text: string): number | null {
  if (!DIGITS.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * RANG start end (draft-bryan-ftp-range): a range, 'reset' for the reserved "RANG 1 0",
 * or null when malformed or when start > end (the draft: 501, and the range is reset).
 */
export function parseRang(arg: string): ByteRange | 'reset' | null {
  const parts = arg.trim().split(/\s+/);
  if (parts.length !== 2) return null;
  const [start, end] = parts.map(safeInteger);
  if (start === null || end === null || start === undefined || end === undefined) return null;
  if (start === 1 && end === 0) return 'reset';
  return start <= end ? { start, end } : null;
}

/** What an X-digest command names: a path, and optionally [start, end) (end excluded). */
export interface DigestArguments {
  path: string;
  range?: { start: number; end: number };
}

const TRAILING_RANGE = /^(.*\S)\s+(\d+)\s+(\d+)$/;

/**
 * "path" or "path start end", as ProFTPD mod_digest reads XCRC/XMD5/XSHA1/XSHA256 (its
 * end is exclusive, unlike RANG's). Only two trailing numbers make a range: a name may
 * contain spaces.
 */
export function parseDigestArguments(arg: string): DigestArguments | null {
  const text = arg.trim();
  if (text === '') return null;
  const match = TRAILING_RANGE.exec(text);
  if (!match) return { path: text };
  const start = safeInteger(match[2]!);
  const end = safeInteger(match[3]!);
  if (start === null || end === null || start >= end) return null;
  return { path: match[1]!, range: { start, end } };
}

/** MFMT time-val pathname (draft-somers-ftp-mfxx). */
export function parseMfmt(arg: string): { time: Date; path: string } | null {
  const space = arg.indexOf(' ');
  if (space <= 0) return null;
  const time = parseTimeVal(arg.slice(0, space));
  const path = arg.slice(space + 1);
  return time && path.trim() !== '' ? { time, path } : null;
}

/**
 * SITE CHMOD's mode: 1 to 4 octal digits. Only the permission bits are kept: a client
 * never sets setuid, setgid or sticky (4755 becomes 0755).
 */
export function parseChmod(arg: string): { mode: number; path: string } | null {
  const match = /^([0-7]{1,4})\s+(.+)$/.exec(arg.trim());
  if (!match) return null;
  return { mode: parseInt(match[1]!, 8) & 0o777, path: match[2]! };
}

export interface UtimeArguments {
  path: string;
  modified: Date;
  /** Only the five-argument form gives one. */
  accessed?: Date;
}

const STAMP = '(\\d{12}|\\d{14})';
const UTIME_MTIME = new RegExp(`^${STAMP}\\s+(.+)$`);
const UTIME_THREE_TIMES = new RegExp(`^(.+?)\\s+${STAMP}\\s+${STAMP}\\s+${STAMP}\\s+UTC$`, 'i');

/**
 * The two forms ProFTPD mod_site_misc accepts (and lftp sends), all times UTC:
 * "YYYYMMDDhhmm[ss] path" (sets both times) and "path atime mtime ctime UTC" (the
 * creation time is read but cannot be set).
 */
export function parseSiteUtime(arg: string): UtimeArguments | null {
  const text = arg.trim();
  const three = UTIME_THREE_TIMES.exec(text);
  if (three) {
    const accessed = parseCompactTime(three[2]!);
    const modified = parseCompactTime(three[3]!);
    const created = parseCompactTime(three[4]!);
    return accessed && modified && created ? { path: three[1]!, modified, accessed } : null;
  }
  const one = UTIME_MTIME.exec(text);
  if (!one) return null;
  const modified = parseCompactTime(one[1]!);
  return modified ? { path: one[2]!, modified, accessed: modified } : null;
}

/** SITE SYMLINK target link: two words (as in ProFTPD, names with spaces cannot be given). */
export function parseSymlink(arg: string): { target: string; link: string } | null {
  const match = /^(\S+)\s+(\S+)$/.exec(arg.trim());
  return match ? { target: match[1]!, link: match[2]! } : null;
}
