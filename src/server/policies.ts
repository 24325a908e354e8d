/**
 * Cross-cutting rules that run before every handler, so no command file re-implements
 * "is the user logged in" or "may this user write". A policy answers with a refusal
 * (code and text) or null to let the command through; it may be async (a policy that
 * asks a quota service, say). A site's policies are injectable; these are the default.
 */
import { Reply } from '../protocol/replies.js';
import { isAvailable, type CommandContext, type CommandReply, type CommandSpec } from './commands/types.js';
import { tlsModeFor } from './site-settings.js';

export type Refusal = CommandReply;

export type Policy = (spec: CommandSpec, context: CommandContext) => Refusal | null | Promise<Refusal | null>;

const requireLogin: Policy = (spec, { state }) =>
  spec.needsLogin && !state.user ? { code: Reply.NotLoggedIn, text: 'Please login with USER and PASS.' } : null;

const requireArgument: Policy = (spec, { arg }) =>
  spec.needsArgument && arg.trim() === '' ? { code: Reply.ArgumentSyntaxError, text: `Syntax: ${spec.syntax}` } : null;

/** A command this session cannot use (its storage lacks the operation, an extension is off) is 502, as if absent. */
const requireAvailable: Policy = (spec, context) =>
  isAvailable(spec, context) ? null : { code: Reply.NotImplemented, text: `${spec.verb} is not available here.` };

const requirePermission: Policy = (spec, { state }) =>
  spec.permission && !state.user?.permissions.has(spec.permission) ? { code: Reply.FileNotFound, text: 'Permission denied.' } : null;

/** vsftpd force_local_logins_ssl: no credentials over a clear control connection. */
const requireTlsForLogin: Policy = (spec, { state, connection, site, arg }) => {
  if (!spec.sendsCredentials || connection.secure) return null;
  const name = spec.verb === 'USER' ? arg : state.pendingUser;
  if (name === null) return null;
  const mode = tlsModeFor(site, name);
  return mode === 'login' || mode === 'required'
    ? { code: Reply.NotLoggedIn, text: 'TLS required: send AUTH TLS before logging in (your password would travel in clear text).' }
    : null;
};

/** vsftpd force_local_data_ssl: data connections must be protected (RFC 4217 section 9). */
const requireProtectedData: Policy = (spec, { state, site }) =>
  spec.opensDataConnection && state.user && state.protection !== 'P' && tlsModeFor(site, state.user.name) === 'required'
    ? { code: Reply.DataProtectionRequired, text: 'Data connections must be encrypted: send PBSZ 0 and PROT P.' }
    : null;

/** In order: the first refusal wins. */
export const DEFAULT_POLICIES: readonly Policy[] = [requireLogin, requireAvailable, requireArgument, requireTlsForLogin, requirePermission, requireProtectedData];
