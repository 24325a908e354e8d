/**
 * FTP reply formatting: the single- and multi-line forms clients parse (RFC 959 4.2).
 * Every reply the server sends goes through formatReply, so no reply can carry a raw
 * CR or LF from a file name (reply injection).
 */

/** Reply codes by meaning; handlers name the meaning, not the number. */
export const Reply = {
  RestartMarker: 110,
  DataAlreadyOpen: 125,
  FileStatusOk: 150,
  CommandOk: 200,
  CommandSuperfluous: 202,
  SystemStatus: 211,
  DirectoryStatus: 212,
  FileStatus: 213,
  HelpMessage: 214,
  SystemType: 215,
  ServiceReady: 220,
  ClosingControl: 221,
  DataOpenNoTransfer: 225,
  ClosingData: 226,
  EnteringPassive: 227,
  EnteringExtendedPassive: 229,
  LoggedIn: 230,
  SecurityExchangeOk: 234,
  FileActionOk: 250,
  PathCreated: 257,
  NeedPassword: 331,
  NeedAccount: 332,
  PendingFurtherInfo: 350,
  ServiceNotAvailable: 421,
  CannotOpenData: 425,
  TransferAborted: 426,
  FileUnavailable: 450,
  LocalError: 451,
  InsufficientStorage: 452,
  SyntaxError: 500,
  ArgumentSyntaxError: 501,
  NotImplemented: 502,
  BadSequence: 503,
  ParameterNotImplemented: 504,
  NotLoggedIn: 530,
  DataProtectionRequired: 521,
  UnsupportedNetworkProtocol: 522,
  /** vsftpd's code for a data-connection TLS failure (RFC 4217 leaves it open). */
  DataTlsRefused: 522,
  NeedAccountToStore: 532,
  ProtectionLevelDenied: 533,
  RequestDeniedForPolicy: 534,
  ProtectionLevelNotSupported: 536,
  FileNotFound: 550,
  PageTypeUnknown: 551,
  ExceededStorage: 552,
  FileNameNotAllowed: 553,
  InvalidRestartPosition: 554,
} as const;

export type ReplyCode = (typeof Reply)[keyof typeof Reply];

/** Replaces CR and LF so a line of text can never end the reply early. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

/**
 * Formats a reply. A single string gives "NNN text"; several lines give
 * "NNN-first", the middle lines indented by one space (so none can be mistaken for a
 * final "NNN " line), and "NNN last".
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  const lines = typeof text === 'string' ? [text] : text;
  if (lines.length <= 1) return `${code} ${oneLine(lines[0] ?? '')}\r\n`;
  let out = `${code}-${oneLine(lines[0]!)}\r\n`;
  for (let i = 1; i < lines.length - 1; i++) out += ` ${oneLine(lines[i]!)}\r\n`;
  return out + `${code} ${oneLine(lines[lines.length - 1]!)}\r\n`;
}

/** Quotes a path for a 257 reply: embedded quotes are doubled (RFC 959 appendix II). */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}
