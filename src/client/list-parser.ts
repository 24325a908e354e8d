/**
 * Directory listing parsers for the client side: MLSD/MLST fact lines (RFC 3659),
 * Unix `ls -l` LIST lines (vsftpd, ProFTPD, Pure-FTPd, FileZilla Server, busybox,
 * Ferry, ...) and DOS/IIS LIST lines.
 *
 * Every function here is total: garbage yields null (single lines) or is skipped
 * (whole listings), never an exception.
 */

export type RemoteFileType = 'file' | 'directory' | 'symlink' | 'unknown';

/** One entry of a directory listing (`FtpClient.list`). */
export interface RemoteFile {
  /** The entry's name as listed (check it with `isSafeName` before joining it to a path). */
  name: string;
  /** 'unknown' when the listing does not say (or says something else, such as a device). */
  type: RemoteFileType;
  /** Bytes, when the listing says. */
  size?: number;
  /** When the listing says: exact (UTC) from MLSD; from LIST only as precise as its date column, in the server's time zone read as UTC. */
  modifiedAt?: Date;
  /** Unix permission string like "rwxr-xr-x" (LIST) or the MLSD perm fact. */
  permissions?: string;
  /** Symlink target from "name -> target" (Unix LIST). */
  target?: string;
  /** The line as received. */
  raw: string;
}

const DAY_MS = 24 * 3600 * 1000;

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6,
  jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

/** Splits a reply body into lines; any of CRLF, LF or a bare CR ends a line. */
function splitLines(text: string): string[] {
  return typeof text === 'string' ? text.split(/\r\n|\r|\n/) : [];
}

/** Drops one trailing line terminator; null if a CR or LF is left inside the line. */
function stripTerminator(line: unknown): string | null {
  if (typeof line !== 'string') return null;
  const out = line.replace(/(?:\r\n|\r|\n)$/, '');
  return /[\r\n]/.test(out) ? null : out;
}

/**
 * A UTC date from its parts, or undefined when a part is out of range (Feb 30, 25:00,
 * ...). Years below 100 are taken literally (no 1900 offset).
 */
function utcDate(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): Date | undefined {
  if (![year, month, day, hour, minute, second, ms].every(Number.isInteger)) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour > 23 || minute > 59 || second > 60 || ms > 999) return undefined;
  if (hour < 0 || minute < 0 || second < 0 || ms < 0) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, Math.min(second, 59), ms);
  if (Number.isNaN(date.getTime())) return undefined;
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date;
}

function toInt(s: string | undefined): number {
  return s === undefined ? NaN : Number.parseInt(s, 10);
}

/** "." and ".." entries, which whole-listing parsers drop. */
function isDotEntry(name: string): boolean {
  return name === '.' || name === '..';
}

// ---------------------------------------------------------------------------
// MLSD / MLST
// ---------------------------------------------------------------------------

/** An MLST reply line carries one leading space before the facts (RFC 3659 7.2). */
const MLST_LEADING_SPACE = /^ [^ =;]+=[^ ]*; /;

/** One MLSD/MLST fact line ("type=file;size=12;modify=20261121090200; name"). Returns null for cdir/pdir entries and unparsable lines. */
export function parseMlsxLine(line: string): RemoteFile | null {
  const raw = stripTerminator(line);
  if (raw === null) return null;
  const text = MLST_LEADING_SPACE.test(raw) ? raw.slice(1) : raw;
  const space = text.indexOf(' ');
  if (space < 0) return null;
  const factText = text.slice(0, space);
  const name = text.slice(space + 1);
  if (name === '') return null;

  const facts = new Map<string, string>();
  if (factText !== '') {
    const pieces = factText.split(';');
    // "a=1;b=2;" leaves one empty piece at the end; a missing final ";" is tolerated.
    if (pieces[pieces.length - 1] === '') pieces.pop();
    if (pieces.length === 0) return null;
    for (const piece of pieces) {
      const eq = piece.indexOf('=');
      if (eq <= 0) return null;
      const key = piece.slice(0, eq).toLowerCase();
      if (!facts.has(key)) facts.set(key, piece.slice(eq + 1));
    }
  }

  const entry: RemoteFile = { name, type: 'unknown', raw };
  const typeFact = facts.get('type');
  if (typeFact !== undefined) {
    const t = typeFact.toLowerCase();
    if (t === 'cdir' || t === 'pdir') return null;
    if (t === 'file') entry.type = 'file';
    else if (t === 'dir') entry.type = 'directory';
    else if (t === 'os.unix=symlink' || t === 'os.unix=slink') entry.type = 'symlink';
    else if (t.startsWith('os.unix=slink:')) {
      entry.type = 'symlink';
      const target = typeFact.slice('os.unix=slink:'.length);
      if (target !== '') entry.target = target;
    }
  }

  const size = facts.get('size') ?? facts.get('sizd');
  if (size !== undefined && /^\d+$/.test(size)) entry.size = Number(size);

  const modify = facts.get('modify');
  if (modify !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/.exec(modify);
    if (m) {
      const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
      const date = utcDate(toInt(m[1]), toInt(m[2]), toInt(m[3]), toInt(m[4]), toInt(m[5]), toInt(m[6]), ms);
      if (date) entry.modifiedAt = date;
    }
  }

  const perm = facts.get('perm');
  if (perm !== undefined) entry.permissions = perm;
  return entry;
}

/** A whole MLSD body. Skips "." / ".." / cdir / pdir. */
export function parseMlsd(text: string): RemoteFile[] {
  const out: RemoteFile[] = [];
  for (const line of splitLines(text)) {
    if (line.trim() === '') continue;
    const entry = parseMlsxLine(line);
    if (entry && !isDotEntry(entry.name)) out.push(entry);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Unix `ls -l`
// ---------------------------------------------------------------------------

/** File type letter, nine permission letters, optional ACL/SELinux/xattr marker. */
const UNIX_HEAD = /^[ \t]*([-bcdlpsDn?])([-rwxsStTlL?]{9})[+.@]?[ \t]+/;

const MONTH_RE = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
/** Size (or "major, minor") right before the date. */
const SIZE_RE = '(?:^|[ \\t])(\\d+|\\d+,[ \\t]*\\d+)[ \\t]+';

/**
 * "1234 Nov 21 09:02 name", "1234 Mar  1  2019 name", and the day-first variant
 * "1234 21 Nov 09:02 name". Exactly one blank separates the date from the name.
 */
const TRADITIONAL_DATE = new RegExp(
  SIZE_RE +
    `(?:${MONTH_RE}[ \\t]+(\\d{1,2})|(\\d{1,2})[ \\t]+${MONTH_RE})[ \\t]+` +
    '(?:(\\d{1,2}):(\\d{2})(?::(\\d{2}))?|(\\d{4}))[ \\t]([^]*)$',
  'i',
);

/** `ls --time-style=long-iso` / `full-iso`: "1234 2026-11-21 09:02[:07[.123]] [+0000] name". */
const ISO_DATE = new RegExp(
  SIZE_RE +
    '(\\d{4})-(\\d{2})-(\\d{2})[ \\t]+(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d+))?)?' +
    '(?:[ \\t]+([+-])(\\d{2})(\\d{2}))?[ \\t]([^]*)$',
);

/** The year for a "Mon DD HH:MM" date: the latest such date not more than a day after `now`. */
function inferYear(month: number, day: number, hour: number, minute: number, second: number, now: Date): Date | undefined {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) return undefined;
  const nowYear = now.getUTCFullYear();
  // Start a year ahead so that a date just past New Year (server clock slightly ahead)
  // lands in the coming year; going back up to 8 years finds the leap year a "Feb 29" needs.
  for (let year = nowYear + 1; year >= nowYear - 8; year--) {
    const date = utcDate(year, month, day, hour, minute, second);
    if (date && date.getTime() <= nowMs + DAY_MS) return date;
  }
  return undefined;
}

function unixType(letter: string): RemoteFileType {
  if (letter === '-') return 'file';
  if (letter === 'd') return 'directory';
  if (letter === 'l') return 'symlink';
  return 'unknown';
}

/** One LIST line in Unix `ls -l` form (vsftpd, ProFTPD, Pure-FTPd, FileZilla Server, Ferry, busybox, with or without group column, numeric owners, names with spaces, year vs HH:MM dates, device files with "major, minor" instead of size). `now` decides the year for "Mon DD HH:MM" dates (a date more than a day in the future belongs to last year). Null for "total N" and unparsable lines. */
export function parseUnixListLine(line: string, now: Date = new Date()): RemoteFile | null {
  const raw = stripTerminator(line);
  if (raw === null) return null;
  const head = UNIX_HEAD.exec(raw);
  if (!head) return null;
  const typeLetter = head[1] ?? '?';
  const permissions = head[2] ?? '';
  // Keep one blank in front of the rest so that the size column can match at its start.
  const rest = raw.slice(head[0].length - 1);

  const trad = TRADITIONAL_DATE.exec(rest);
  const iso = ISO_DATE.exec(rest);
  // The leftmost size+date wins: names come last, and may themselves look like dates.
  const useIso = iso !== null && (trad === null || iso.index < trad.index);

  let sizeText: string | undefined;
  let name: string | undefined;
  let modifiedAt: Date | undefined;
  if (useIso) {
    sizeText = iso[1];
    name = iso[12];
    let date = utcDate(toInt(iso[2]), toInt(iso[3]), toInt(iso[4]), toInt(iso[5]), toInt(iso[6]), toInt(iso[7] ?? '0'),
      iso[8] === undefined ? 0 : Math.floor(Number(`0.${iso[8]}`) * 1000));
    if (date && iso[9] !== undefined) {
      const offsetMin = toInt(iso[10]) * 60 + toInt(iso[11]);
      date = new Date(date.getTime() - (iso[9] === '-' ? -1 : 1) * offsetMin * 60_000);
    }
    modifiedAt = date;
  } else if (trad) {
    sizeText = trad[1];
    name = trad[10];
    const month = MONTHS[(trad[2] ?? trad[5] ?? '').toLowerCase()] ?? 0;
    const day = toInt(trad[3] ?? trad[4]);
    if (trad[9] !== undefined) {
      modifiedAt = utcDate(toInt(trad[9]), month, day);
    } else {
      modifiedAt = inferYear(month, day, toInt(trad[6]), toInt(trad[7]), toInt(trad[8] ?? '0'), now);
    }
  } else {
    return null;
  }
  if (name === undefined || name === '' || sizeText === undefined) return null;

  const entry: RemoteFile = { name, type: unixType(typeLetter), raw, permissions };
  if (/^\d+$/.test(sizeText)) entry.size = Number(sizeText);
  if (modifiedAt) entry.modifiedAt = modifiedAt;

  if (entry.type === 'symlink') {
    const arrow = name.indexOf(' -> ');
    if (arrow > 0) {
      entry.name = name.slice(0, arrow);
      const target = name.slice(arrow + 4);
      if (target !== '') entry.target = target;
    }
  }
  return entry;
}

// ---------------------------------------------------------------------------
// DOS / IIS
// ---------------------------------------------------------------------------

/**
 * "11-21-26  09:02AM       <DIR>          name" / "11-21-2026  21:02  1,234 name".
 * Also the `dir` forms "<SYMLINK>", "<SYMLINKD>" and "<JUNCTION>" with "name [target]".
 */
const DOS_LINE =
  /^[ \t]*(\d{1,2})([-/])(\d{1,2})\2(\d{2}|\d{4})[ \t]+(\d{1,2}):(\d{2})(?::(\d{2}))?[ \t]*([AaPp][Mm])?[ \t]+(<DIR>|<SYMLINKD?>|<JUNCTION>|\d{1,3}(?:,\d{3})+|\d+)[ \t]+([^]*)$/i;

/** One LIST line in DOS/IIS form: "11-21-26  09:02AM       <DIR>          name" and "11-21-2026  09:02PM  1234 name" (2- and 4-digit years, AM/PM and 24h). */
export function parseDosListLine(line: string): RemoteFile | null {
  const raw = stripTerminator(line);
  if (raw === null) return null;
  const m = DOS_LINE.exec(raw);
  if (!m) return null;
  const name = m[10] ?? '';
  if (name === '') return null;

  let year = toInt(m[4]);
  if ((m[4] ?? '').length === 2) year += year < 70 ? 2000 : 1900;
  let hour = toInt(m[5]);
  const ampm = m[8]?.toUpperCase();
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) hour = NaN;
    else if (ampm === 'AM') hour = hour === 12 ? 0 : hour;
    else hour = hour === 12 ? 12 : hour + 12;
  }
  const modifiedAt = utcDate(year, toInt(m[1]), toInt(m[3]), hour, toInt(m[6]), toInt(m[7] ?? '0'));

  const column = (m[9] ?? '').toUpperCase();
  const entry: RemoteFile = { name, type: 'file', raw };
  if (column === '<DIR>') entry.type = 'directory';
  else if (column.startsWith('<')) {
    entry.type = column === '<JUNCTION>' || column === '<SYMLINKD>' || column === '<SYMLINK>' ? 'symlink' : 'unknown';
    const link = /^(.+?) \[([^]*)\]$/.exec(name);
    if (link && link[1] !== undefined && link[2] !== undefined) {
      entry.name = link[1];
      if (link[2] !== '') entry.target = link[2];
    }
  } else {
    entry.size = Number(column.replace(/,/g, ''));
  }
  if (modifiedAt) entry.modifiedAt = modifiedAt;
  return entry;
}

// ---------------------------------------------------------------------------
// Whole listings
// ---------------------------------------------------------------------------

/** A whole LIST reply body (CRLF or LF), auto-detecting the format line by line, skipping blank lines, "total N", "." and "..". */
export function parseList(text: string, now: Date = new Date()): RemoteFile[] {
  const out: RemoteFile[] = [];
  for (const line of splitLines(text)) {
    if (line.trim() === '' || /^[ \t]*total[ \t]+\d+/i.test(line)) continue;
    const entry = parseUnixListLine(line, now) ?? parseDosListLine(line);
    if (entry && !isDotEntry(entry.name)) out.push(entry);
  }
  return out;
}
