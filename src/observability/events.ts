/**
 * Observability hooks through node:diagnostics_channel: logs, metrics and admin views
 * subscribe to these without touching protocol code.
 */
import { channel } from 'node:diagnostics_channel';

export interface TransferEvent {
  session: { id: number; remoteAddress: string; user: { name: string } | null };
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
