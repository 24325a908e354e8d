/**
 * Cross-cutting rules that run before every handler, so no command file re-implements
 * "is the user logged in" or "may this user write". A policy answers with a refusal
 * (an error code, which gives the reply, and optionally its own text) or null to let the
 * command through; it may be async (a policy that asks a quota service, say). The
 * session logs every refusal with its code. A site's policies are injectable; these are
 * the default.
 */
import { ERRORS, type ErrorCode } from '../errors.js';
import { isAvailable, type CommandContext, type CommandReply, type CommandSpec } from './commands/types.js';
import { loggedInTlsMode, tlsModeFor } from './site-settings.js';

export interface Refusal {
  error: ErrorCode;
  /** The reply text; default the catalogue's message for `error`. */
  text?: string;
  /** Context for the log line (the user name a login was refused for, say). */
  fields?: Record<string, unknown>;
}

/** The reply a refusal gets: its code's, with its own text if it has one. */
export function refusalReply(refusal: Refusal): CommandReply {
  const { reply, message } = ERRORS[refusal.error];
  return { code: reply, text: refusal.text ?? message };
}

export type Policy = (spec: CommandSpec, context: CommandContext) => Refusal | null | Promise<Refusal | null>;

const requireLogin: Policy = (spec, { state }) =>
  spec.needsLogin && !state.user ? { error: 'FERRY_ERR_NOT_LOGGED_IN' } : null;

const requireArgument: Policy = (spec, { arg }) =>
  spec.needsArgument && arg.trim() === '' ? { error: 'FERRY_ERR_SYNTAX', text: `Syntax: ${spec.syntax}` } : null;

/** A command this session cannot use (its storage lacks the operation, an extension is off) is 502, as if absent. */
const requireAvailable: Policy = (spec, context) =>
  isAvailable(spec, context) ? null : { error: 'FERRY_ERR_NOT_AVAILABLE', text: `${spec.verb} is not available here.` };

const requirePermission: Policy = (spec, { state }) =>
  spec.permission && !state.user?.permissions.has(spec.permission) ? { error: 'FERRY_ERR_PERMISSION' } : null;

/** vsftpd force_local_logins_ssl: no credentials over a clear control connection. */
const requireTlsForLogin: Policy = (spec, { state, connection, site, arg }) => {
  if (!spec.sendsCredentials || connection.secure) return null;
  const name = spec.verb === 'USER' ? arg : state.pendingUser;
  if (name === null) return null;
  const mode = tlsModeFor(site, name);
  return mode === 'login' || mode === 'required'
    ? { error: 'FERRY_ERR_TLS_REQUIRED', fields: { user: name, tlsMode: mode } }
    : null;
};

/** vsftpd force_local_data_ssl: data connections must be protected (RFC 4217 section 9). */
const requireProtectedData: Policy = (spec, { state, site }) =>
  spec.opensDataConnection && state.user && state.protection !== 'P' && loggedInTlsMode(site, state.user) === 'required'
    ? { error: 'FERRY_ERR_PROTECTION_REQUIRED' }
    : null;

/** In order: the first refusal wins. */
export const DEFAULT_POLICIES: readonly Policy[] = [requireLogin, requireAvailable, requireArgument, requireTlsForLogin, requirePermission, requireProtectedData];
