/** Announces a file operation that succeeded: an info log line and the ferry:file event (hooks). */
import { events, type FileOperationEvent } from '../../observability/events.js';
import type { CommandContext } from './types.js';

type Operation = Pick<FileOperationEvent, 'op' | 'path' | 'from'>;

/**
 * The info line of a file operation that succeeded: `op`, `path` and what else says what
 * changed (`from` of a rename, `mode` of a SITE CHMOD, ...).
 */
export function logFileOperation({ logger }: Pick<CommandContext, 'logger'>, op: string, path: string, details: Record<string, unknown> = {}): void {
  logger.info({ op, path, ...details }, 'file operation');
}

/** Call only after the storage call returned: subscribers must never see a refused operation. */
export function announceFileOperation(context: CommandContext, operation: Operation): void {
  const { state, site, summary } = context;
  const user = state.user;
  logFileOperation(context, operation.op, operation.path, operation.from !== undefined ? { from: operation.from } : {});
  events.fileOperation.publish({
    session: summary,
    ...operation,
    user: user && { name: user.name, anonymous: user.anonymous },
    site: site.name,
  } satisfies FileOperationEvent);
}
