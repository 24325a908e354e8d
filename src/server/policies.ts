/**
 * Cross-cutting rules that run before every handler, so no command file re-implements
 * "is the user logged in" or "may this user write". A policy answers with a refusal
 * (code and text) or null to let the command through.
 */
import { Reply } from '../protocol/replies.js';
import type { CommandContext, CommandSpec } from './commands/types.js';

export interface Refusal {
  code: number;
  text: string;
}

export type Policy = (spec: CommandSpec, context: CommandContext) => Refusal | null;

const requireLogin: Policy = (spec, { session }) =>
  spec.needsLogin && !session.user ? { code: Reply.NotLoggedIn, text: 'Please login with USER and PASS.' } : null;

const requireArgument: Policy = (spec, { arg }) =>
  spec.needsArgument && arg.trim() === '' ? { code: Reply.ArgumentSyntaxError, text: `Syntax: ${spec.syntax}` } : null;

const requirePermission: Policy = (spec, { session }) =>
  spec.permission && !session.user?.permissions.has(spec.permission)
    ? { code: Reply.FileNotFound, text: 'Permission denied.' }
    : null;

/** In order: the first refusal wins. */
export const DEFAULT_POLICIES: readonly Policy[] = [requireLogin, requireArgument, requirePermission];
