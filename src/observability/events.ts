/**
 * Observability hooks through node:diagnostics_channel: logs, metrics and admin views
 * subscribe to these without touching protocol code.
 */
import { channel } from 'node:diagnostics_channel';

/** A session as the events describe it (the Session object itself is what is published). */
export interface SessionSummary {
  /** Unique across processes and nodes ("3f2a9c1b-17"). */
  readonly id: string;
  readonly remoteAddress: string;
  readonly user: { readonly name: string } | null;
}

export interface TransferEvent {
  session: SessionSummary;
  verb: string;
  path: string;
  bytes: number;
  durationMs: number;
  outcome: 'complete' | 'aborted' | 'failed';
  /** The bytes went through sendfile(2) rather than JavaScript. */
  zeroCopy: boolean;
  /** download: server to client (RETR and listings); upload: client to server (STOR, APPE, STOU). */
  direction: 'download' | 'upload';
  /** A file (RETR, STOR, APPE, STOU) or a directory listing (LIST, NLST, MLSD), which transfer logs leave out. */
  kind: 'file' | 'listing';
  /** TYPE A (line ends converted) or TYPE I, as the transfer ran. */
  mode: 'ascii' | 'binary';
  /** The client's address (the PROXY header's source behind a trusted proxy). */
  remoteAddress: string;
  /** Who ran it, as when it ended (a later REIN or login does not change the event). */
  user: { readonly name: string; readonly anonymous: boolean } | null;
  /** The site (virtual host) of the session: "default" for the top level. */
  site: string;
  /** When it ended, in milliseconds since the epoch. */
  endedAt: number;
  /** For outcome "failed": the stable code and the reason in words. */
  failure?: { readonly code: string; readonly reason: string };
}

/** One password check (ferry:login is published once per check). */
export interface LoginEvent {
  session: SessionSummary;
  name: string;
  success: boolean;
}

/** A PASS refused before its password was checked: the address is banned, or has too many checks in flight. */
export interface LoginRefusedEvent {
  session: SessionSummary;
  name: string;
  code: 'FERRY_ERR_BANNED' | 'FERRY_ERR_LOGIN_FLOOD';
}

/**
 * A command has its final reply (1xx replies are not final: a transfer's is its 226 or
 * 4xx). Published only while someone subscribes, as it fires for every command.
 */
export interface CommandEvent {
  session: SessionSummary;
  /** Upper case as the client sent it; null when the line had no readable verb (too long, not 3-4 letters). */
  verb: string | null;
  /** The site's command table has this verb (so the set of known verbs is bounded; the client chooses the others). */
  known: boolean;
  code: number;
}

export interface TlsHandshakeFailedEvent {
  /** The control connection (AUTH TLS, implicit FTPS) or a data connection under PROT P. */
  connection: 'control' | 'data';
  reason: string;
}

export interface BanEvent {
  /** The banned address (an IPv6 client's /64 prefix). */
  address: string;
  /** End of the ban (ms since the epoch). */
  until: number;
  /**
   * Decided elsewhere and only enforced here: by another node ([cluster] redis), or by the
   * primary on another worker's event (the worker whose event reached the threshold
   * publishes it not adopted). Adopted bans are not counted, so each ban counts once.
   */
  adopted: boolean;
}

/**
 * A file operation that succeeded (DELE, RMD, MKD, RNFR then RNTO): published only
 * after the storage call returned, so subscribers (event hooks) never see a refused one.
 */
export interface FileOperationEvent {
  session: SessionSummary;
  op: 'delete' | 'rmdir' | 'mkdir' | 'rename';
  /** The target: the file or directory operated on, the new name of a rename. */
  path: string;
  /** For rename: the old name. */
  from?: string;
  user: { readonly name: string; readonly anonymous: boolean } | null;
  /** The site (virtual host) of the session: "default" for the top level. */
  site: string;
}

/** Each channel's message is the interface above of the same name (sessions: `{ session }`). */
export const events = {
  sessionOpened: channel('ferry:session:opened'),
  sessionClosed: channel('ferry:session:closed'),
  login: channel('ferry:login'),
  transfer: channel('ferry:transfer'),
  loginRefused: channel('ferry:login:refused'),
  command: channel('ferry:command'),
  tlsHandshakeFailed: channel('ferry:tls:handshake-failed'),
  ban: channel('ferry:ban'),
  fileOperation: channel('ferry:file'),
};
