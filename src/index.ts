/** The ferry-ftp library: the server, its seams and the protocol helpers. */
export { FtpServer, type FtpServerOptions } from './server/server.js';
export type { StorageBackend, StorageCapabilities, Upload, Download, FileStat, WriteOptions, SocketTransferOptions } from './storage/backend.js';
export { LocalStorage } from './storage/local.js';
export type { Authenticator, UserContext, AuthContext } from './auth/authenticator.js';
export { FileAuthenticator } from './auth/file-authenticator.js';
export { hashPassword, verifyPassword } from './auth/password.js';
export { PERMISSIONS, type Permission } from './auth/permissions.js';
export { configSchema, type FerryConfig, type FerryConfigInput } from './config/schema.js';
export { loadConfig, validateConfig } from './config/load.js';
export { ConfigError } from './config/errors.js';
export { FtpError, ERRORS, type ErrorCode } from './errors.js';
export { events } from './observability/events.js';
export { FtpClient, FtpClientError } from './client/index.js';
