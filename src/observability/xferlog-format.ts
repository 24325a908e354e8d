/**
 * The transfer log's two line formats, pure functions of one TransferEvent:
 *
 * - "xferlog": wu-ftpd's line, as vsftpd writes it with xferlog_std_format (man 5 xferlog),
 *   the one log analysers parse:
 *   `current-time transfer-time remote-host file-size filename transfer-type
 *    special-action-flag direction access-mode username service-name
 *    authentication-method authenticated-user-id completion-status`
 * - "json": one object per line, with what xferlog has no field for (the failure's code
 *   and reason, the session id, the site).
 *
 * Neither ends with a newline; the writer adds it.
 */
import type { TransferEvent } from './events.js';

export const TRANSFER_LOG_FORMATS = ['xferlog', 'json'] as const;
export type TransferLogFormat = (typeof TRANSFER_LOG_FORMATS)[number];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (value: number) => String(value).padStart(2, '0');

/** ctime(3) without its newline, in the process's local time zone (TZ): "Thu Mar  4 08:12:30 2024". */
export function ctimeDate(date: Date): string {
  const day = String(date.getDate()).padStart(2, ' ');
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${day} ${time} ${date.getFullYear()}`;
}

/** Control characters (C0, DEL, C1), which could end a line or fake one. */
const CONTROL = /\p{Cc}/gu;
/** Any other whitespace (space, no-break space, U+2028...), which would split a field. */
const WHITESPACE = /\s/gu;

/**
 * One space-separated field. As vsftpd does, a space becomes "_" and a control character
 * "?", so a name can neither shift the fields after it nor start a line of its own.
 * Unlike vsftpd, which also turns every byte above 127 into "?", other characters stay
 * as they are: "résumé.txt" is written in UTF-8, not as "r??sum??.txt".
 */
export function xferlogField(text: string): string {
  return text.replace(CONTROL, '?').replace(WHITESPACE, '_');
}

/**
 * Whole seconds, at least 1, as vsftpd writes them (it never writes 0, which analysers
 * divide by to get a rate).
 */
export function transferSeconds(durationMs: number): number {
  return Math.max(1, Math.round(durationMs / 1000));
}

/**
 * The xferlog line. The username is the login name, also for anonymous users, where
 * vsftpd writes the password they gave (by convention an e-mail address): Ferry never
 * logs a PASS argument, and access mode "a" already tells analysers the user was
 * anonymous. Ferry has no guest ("g") users: every password-checked user is "r". The
 * authentication method is 0 (no RFC 931 ident lookup) and its user id "*".
 */
export function formatXferlog(event: TransferEvent): string {
  return [
    ctimeDate(new Date(event.endedAt)),
    transferSeconds(event.durationMs),
    event.remoteAddress,
    event.bytes,
    xferlogField(event.path),
    event.mode === 'ascii' ? 'a' : 'b',
    '_',
    event.direction === 'upload' ? 'i' : 'o',
    event.user?.anonymous ? 'a' : 'r',
    xferlogField(event.user?.name ?? '*'),
    'ftp',
    '0',
    '*',
    event.outcome === 'complete' ? 'c' : 'i',
  ].join(' ');
}

/** JSON leaves NEL, U+2028 and U+2029 as they are, but readers such as Python's splitlines() end a line there. */
const LINE_SEPARATORS = /[\u0085\u2028\u2029]/gu;

/** The JSON line: `status` is the outcome; a failed transfer adds `code` and `reason`. */
export function formatTransferJson(event: TransferEvent): string {
  const json = JSON.stringify({
    time: new Date(event.endedAt).toISOString(),
    durationMs: event.durationMs,
    remoteAddress: event.remoteAddress,
    bytes: event.bytes,
    path: event.path,
    direction: event.direction,
    mode: event.mode,
    user: event.user?.name ?? null,
    anonymous: event.user?.anonymous ?? false,
    status: event.outcome,
    ...(event.failure && { code: event.failure.code, reason: event.failure.reason }),
    verb: event.verb,
    session: event.session.id,
    site: event.site,
  });
  return json.replace(LINE_SEPARATORS, (separator) => `\\u${separator.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const TRANSFER_LINE_FORMATTERS: Record<TransferLogFormat, (event: TransferEvent) => string> = {
  xferlog: formatXferlog,
  json: formatTransferJson,
};
