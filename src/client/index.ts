/** The ferry-ftp client library: `import { FtpClient } from 'ferry-ftp/client'`. */
export { FtpClient, isSafeName, type FtpClientOptions, type Progress, type TransferOptions } from './client.js';
export { FtpClientError, type FtpClientErrorKind } from './errors.js';
export type { RemoteFile, RemoteFileType } from './list-parser.js';
export type { TreeEvent, TreeFile, TreeProgress, TreeRefusal, TreeTransferOptions, TreeTransferResult } from './tree-transfer.js';
export { parseList, parseMlsd } from './list-parser.js';
export type { FtpResponse } from './reply-parser.js';
export type { Trace, TlsClientOptions } from './control.js';
export type { DataCommand, DataMode } from './data-connection.js';
