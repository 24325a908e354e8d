/**
 * Reading the timestamps clients send (MFMT, SITE UTIME). All are UTC, as RFC 3659
 * time-vals are; a value that is not a real calendar time is refused (null), never
 * rolled over into another date.
 */

const TIME_VAL = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?$/;
/** SITE UTIME (ProFTPD mod_site_misc): YYYYMMDDhhmm, seconds optional. */
const COMPACT_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/;

function utcDate(year: number, month: number, day: number, hour: number, minute: number, second: number, millisecond: number): Date | null {
  // 60 is a leap second in RFC 3659; file systems cannot store one, so it is refused.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
  // Date.UTC maps years 0..99 to 1900..1999; a day past the month's end rolls over.
  if (year < 100) date.setUTCFullYear(year);
  return date.getUTCDate() === day && date.getUTCMonth() === month - 1 ? date : null;
}

/** RFC 3659 time-val "YYYYMMDDHHMMSS[.sss]" (UTC; fraction digits past milliseconds are dropped). */
export function parseTimeVal(text: string): Date | null {
  const match = TIME_VAL.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction = ''] = match;
  const millisecond = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return utcDate(Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second), millisecond);
}

/** "YYYYMMDDhhmm" or "YYYYMMDDhhmmss" (UTC), as SITE UTIME takes them. */
export function parseCompactTime(text: string): Date | null {
  const match = COMPACT_TIME.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second = '0'] = match;
  return utcDate(Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second), 0);
}
