/**
 * The transfer log ([log] transfers): one line per finished, aborted or failed file
 * upload or download, in the xferlog or JSON format (see xferlog-format.ts), appended
 * to a file. It subscribes to the transfer event, so no protocol code knows about it;
 * listings are transfers on the wire but not in this log (vsftpd leaves them out too).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.js';
import { openAppendFile, type AppendFile } from './append-file.js';
import { events, type TransferEvent } from './events.js';
import { TRANSFER_LINE_FORMATTERS, type TransferLogFormat } from './xferlog-format.js';

export interface TransferLogOptions {
  path: string;
  format: TransferLogFormat;
  logger: Logger;
  /** Which events are this log's (a process may run several servers, all publishing on one channel). */
  accepts(event: TransferEvent): boolean;
}

export class TransferLog {
  private readonly onTransfer = (message: unknown): void => {
    const event = message as TransferEvent;
    if (event.kind !== 'file' || !this.options.accepts(event)) return;
    this.file.append(TRANSFER_LINE_FORMATTERS[this.options.format](event));
  };

  private constructor(
    private readonly file: AppendFile,
    private readonly options: TransferLogOptions,
  ) {
    subscribe(events.transfer.name, this.onTransfer);
  }

  /** Opens the file (creating it) and starts logging; a path that cannot be opened is a config error naming log.transfers. */
  static async open(options: TransferLogOptions): Promise<TransferLog> {
    try {
      return new TransferLog(await openAppendFile(options.path, { logger: options.logger, label: 'transfer log' }), options);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`log.transfers: cannot open ${options.path} for appending (${reason})`, 'log.transfers');
    }
  }

  /** SIGHUP: the next lines go to a file opened afresh at the path (after logrotate). */
  reopen(): Promise<void> {
    return this.file.reopen();
  }

  async close(): Promise<void> {
    unsubscribe(events.transfer.name, this.onTransfer);
    await this.file.close();
  }
}
