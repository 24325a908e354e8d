/**
 * What a hook receives: one flat JSON object per event (the same for command and URL
 * hooks), mapped from the diagnostics_channel events. Uploads and downloads fire only
 * when complete (an aborted or failed upload left no file to act on); `status` says so.
 */
import type { FileOperationEvent, LoginEvent, SessionSummary, TransferEvent } from '../events.js';

export const HOOK_EVENTS = ['upload', 'download', 'delete', 'rename', 'mkdir', 'rmdir', 'login', 'logout'] as const;
export type HookEventName = (typeof HOOK_EVENTS)[number];

export interface HookEvent {
  event: HookEventName;
  session: string;
  remoteAddress: string;
  user: string | null;
  /** The virtual host, where the event knows it. */
  site?: string;
  path?: string;
  /** rename: the old path. */
  from?: string;
  bytes?: number;
  /** "complete" for transfers, "success" for the others (only successes fire). */
  status: string;
  time: string;
}

function base(session: SessionSummary, event: HookEventName, status: string): HookEvent {
  return { event, session: session.id, remoteAddress: session.remoteAddress, user: session.user?.name ?? null, status, time: new Date().toISOString() };
}

/** Complete file transfers only: listings and aborted or failed transfers fire nothing. */
export function fromTransfer(event: TransferEvent): HookEvent | null {
  if (event.kind !== 'file' || event.outcome !== 'complete') return null;
  return { ...base(event.session, event.direction, event.outcome), user: event.user?.name ?? null, site: event.site, path: event.path, bytes: event.bytes };
}

export function fromLogin(event: LoginEvent): HookEvent | null {
  return event.success ? { ...base(event.session, 'login', 'success'), user: event.name } : null;
}

/** A session that never logged in has no logout. */
export function fromSessionClosed(session: SessionSummary): HookEvent | null {
  return session.user ? base(session, 'logout', 'success') : null;
}

export function fromFileOperation(event: FileOperationEvent): HookEvent {
  return {
    ...base(event.session, event.op, 'success'),
    user: event.user?.name ?? null,
    site: event.site,
    path: event.path,
    ...(event.from !== undefined && { from: event.from }),
  };
}

/** The environment of a command hook: PATH plus the event's fields, nothing else of the server's. */
export function hookEnvironment(event: HookEvent): NodeJS.ProcessEnv {
  const values: Record<string, string | number | null | undefined> = {
    FERRY_EVENT: event.event,
    FERRY_USER: event.user,
    FERRY_PATH: event.path,
    FERRY_FROM: event.from,
    FERRY_REMOTE_ADDRESS: event.remoteAddress,
    FERRY_BYTES: event.bytes,
    FERRY_SITE: event.site,
    FERRY_SESSION: event.session,
    FERRY_STATUS: event.status,
  };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== null) env[key] = String(value);
  return env;
}
