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

export const events = {
  sessionOpened: channel('ferry:session:opened'),
  sessionClosed: channel('ferry:session:closed'),
  login: channel('ferry:login'),
  transfer: channel('ferry:transfer'),
};
