/** Announces a file operation that succeeded: an info log line and the ferry:file event (hooks). */
import { events, type FileOperationEvent } from '../../observability/events.js';
import type { CommandContext } from './types.js';

type Operation = Pick<FileOperationEvent, 'op' | 'path' | 'from'>;

/** Call only after the storage call returned: subscribers must never see a refused operation. */
export function announceFileOperation({ state, site, summary, logger }: CommandContext, operation: Operation): void {
  const user = state.user;
  logger.info({ op: operation.op, path: operation.path, ...(operation.from !== undefined && { from: operation.from }) }, 'file operation');
  events.fileOperation.publish({
    session: summary,
    ...operation,
    user: user && { name: user.name, anonymous: user.anonymous },
    site: site.name,
  } satisfies FileOperationEvent);
}
