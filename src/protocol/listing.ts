/**
 * Directory listing formats: LIST in `ls -l` form (what curl, lftp, FileZilla and
 * basic-ftp parse), NLST names, MLSD/MLST facts (RFC 3659) and MDTM timestamps.
 */

export type EntryType = 'file' | 'directory';

export interface ListEntry {
  name: string;
  type: EntryType;
  size: number;
  mtime: Date;
  /** Unix permission bits (e.g. 0o644). */
  mode: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;
const ONE_HOUR_MS = 3600 * 1000;

function permissionString(type: EntryType, mode: number): string {
  const bits = 'rwxrwxrwx';
  let out = type === 'directory' ? 'd' : '-';
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The date column of `ls -l`: "Nov 21 09:02" for times within the last six months
 * (or up to an hour ahead), "Nov 21  2019" otherwise -- the rule clients use to tell
 * a time from a year. Times are UTC, like vsftpd's default.
 */
export function formatListDate(mtime: Date, now: Date): string {
  const month = MONTHS[mtime.getUTCMonth()]!;
  const day = String(mtime.getUTCDate()).padStart(2, ' ');
  const age = now.getTime() - mtime.getTime();
  const recent = age < SIX_MONTHS_MS && age > -ONE_HOUR_MS;
  const tail = recent
    ? `${pad2(mtime.getUTCHours())}:${pad2(mtime.getUTCMinutes())}`
    : String(mtime.getUTCFullYear()).padStart(5, ' ');
  return `${month} ${day} ${tail}`;
}

/** One LIST line, e.g. "-rw-r--r--    1 ftp      ftp          1234 Nov 21 09:02 name". */
export function formatListLine(entry: ListEntry, now: Date): string {
  const links = entry.type === 'directory' ? 2 : 1;
  return (
    `${permissionString(entry.type, entry.mode)} ${String(links).padStart(4)} ftp      ftp      ` +
    `${String(entry.size).padStart(12)} ${formatListDate(entry.mtime, now)} ${entry.name}`
  );
}

/** "YYYYMMDDHHMMSS" in UTC: the MDTM reply and the MLSx modify fact (RFC 3659 2.3). */
export function formatTimeVal(date: Date): string {
  return (
    String(date.getUTCFullYear()).padStart(4, '0') +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds())
  );
}

/** MLSx facts a client may select with OPTS MLST, in the order they are printed. */
export const MLST_FACTS = ['type', 'size', 'modify', 'perm', 'unix.mode'] as const;
export type MlstFact = (typeof MLST_FACTS)[number];

/** What the current user may do, for the perm fact. */
export interface EntryPermissions {
  read: boolean;
  write: boolean;
  delete: boolean;
  rename: boolean;
  mkdir: boolean;
  list: boolean;
}

/** The RFC 3659 perm fact letters for an entry. */
export function permFact(type: EntryType, can: EntryPermissions): string {
  let out = '';
  if (type === 'file') {
    if (can.write) out += 'a';
    if (can.delete) out += 'd';
    if (can.rename) out += 'f';
    if (can.read) out += 'r';
    if (can.write) out += 'w';
  } else {
    if (can.write) out += 'c';
    if (can.delete) out += 'd';
    out += 'e';
    if (can.rename) out += 'f';
    if (can.list) out += 'l';
    if (can.mkdir) out += 'm';
    if (can.delete) out += 'p';
  }
  return out;
}

/**
 * One MLSx line: "type=file;size=12;modify=20261121090200;perm=adfrw;unix.mode=0644; name".
 * `typeOverride` is used for the "cdir" entry that MLSD/MLST report for a directory itself.
 */
export function formatMlsxLine(
  entry: ListEntry,
  displayName: string,
  facts: ReadonlySet<MlstFact>,
  can: EntryPermissions,
  typeOverride?: 'cdir' | 'pdir',
): string {
  let out = '';
  if (facts.has('type')) out += `type=${typeOverride ?? (entry.type === 'directory' ? 'dir' : 'file')};`;
  if (facts.has('size') && entry.type === 'file') out += `size=${entry.size};`;
  if (facts.has('modify')) out += `modify=${formatTimeVal(entry.mtime)};`;
  if (facts.has('perm')) out += `perm=${permFact(entry.type, can)};`;
  if (facts.has('unix.mode')) out += `unix.mode=0${(entry.mode & 0o7777).toString(8)};`;
  return `${out} ${displayName}`;
}

/** The FEAT line for MLST: every fact, selected ones marked with "*". */
export function mlstFeatLine(selected: ReadonlySet<MlstFact>): string {
  return 'MLST ' + MLST_FACTS.map((f) => `${f}${selected.has(f) ? '*' : ''};`).join('');
}

/** Parses "OPTS MLST type;size;" into the set of known facts (unknown ones are dropped). */
export function parseMlstOpts(arg: string): Set<MlstFact> {
  const wanted = arg.toLowerCase().split(';').map((f) => f.trim());
  return new Set(MLST_FACTS.filter((f) => wanted.includes(f)));
}

/**
 * The `ls` options that clients put before the path of LIST, NLST and STAT ("LIST -la",
 * ncftp's "NLST -1"), understood as vsftpd and ProFTPD do. Ferry always shows dot files,
 * so -a and -A change nothing; -1 is what NLST does anyway; other letters of `ls` (-F,
 * -C, -n, ...) are accepted and ignored, as vsftpd ignores them.
 */
export interface ListOptions {
  /** -l: long format; NLST -l answers like LIST (as `ls -l` would). */
  long: boolean;
  /** -t: newest first. */
  byTime: boolean;
  /** -r: reverse order. */
  reverse: boolean;
  /** -R: recursive, which Ferry refuses rather than answering with one level. */
  recursive: boolean;
}

/**
 * Splits LIST/NLST/STAT's argument into leading option words and the path (possibly
 * empty, kept verbatim). An option word is "-" and letters or digits, ended by
 * whitespace; "--" ends the options, so `LIST -- -1` (like `LIST ./-1`) names a file
 * called "-1".
 */
export function parseListArguments(arg: string): { options: ListOptions; path: string } {
  const options: ListOptions = { long: false, byTime: false, reverse: false, recursive: false };
  let rest = arg.trimStart();
  for (;;) {
    const word = /^(--|-[A-Za-z0-9]+)(?:\s+|$)/.exec(rest);
    if (!word) break;
    const option = word[1]!;
    rest = rest.slice(word[0].length);
    if (option === '--') break;
    for (const letter of option.slice(1)) {
      if (letter === 'l') options.long = true;
      else if (letter === 't') options.byTime = true;
      else if (letter === 'r') options.reverse = true;
      else if (letter === 'R') options.recursive = true;
    }
  }
  return { options, path: rest };
}
