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
}

export const events = {
  sessionOpened: channel('ferry:session:opened'),
  sessionClosed: channel('ferry:session:closed'),
  login: channel('ferry:login'),
  transfer: channel('ferry:transfer'),
};
