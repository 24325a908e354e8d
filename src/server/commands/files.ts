/** Single-file operations: DELE, RNFR/RNTO, SIZE, MDTM. */
import { FtpError } from '../../errors.js';
import { formatTimeVal } from '../../protocol/listing.js';
import { Reply } from '../../protocol/replies.js';
import type { CommandSpec } from './types.js';

export const fileCommands: CommandSpec[] = [
  {
    verb: 'DELE',
    syntax: 'DELE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'delete',
    async handle({ session, arg }) {
      await session.store.delete(session.resolvePath(arg));
      session.reply(Reply.FileActionOk, 'File deleted.');
    },
  },
  {
    verb: 'RNFR',
    syntax: 'RNFR <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'rename',
    async handle({ session, arg }) {
      const path = session.resolvePath(arg);
      if (path === '/') throw new FtpError('FERRY_ERR_PERMISSION', 'The root directory cannot be renamed.');
      await session.store.stat(path);
      session.renameFrom = path;
      session.reply(Reply.PendingFurtherInfo, 'Ready for RNTO.');
    },
  },
  {
    verb: 'RNTO',
    syntax: 'RNTO <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'rename',
    async handle({ session, arg, renameFrom }) {
      if (renameFrom === null) {
        session.reply(Reply.BadSequence, 'RNFR required first.');
        return;
      }
      await session.store.rename(renameFrom, session.resolvePath(arg));
      session.reply(Reply.FileActionOk, 'Rename successful.');
    },
  },
  {
    verb: 'SIZE',
    syntax: 'SIZE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'list',
    feat: () => ['SIZE'],
    async handle({ session, arg }) {
      const stat = await session.store.stat(session.resolvePath(arg));
      if (stat.type !== 'file') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY', 'Could not get file size: not a plain file.');
      session.reply(Reply.FileStatus, String(stat.size));
    },
  },
  {
    verb: 'MDTM',
    syntax: 'MDTM <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'list',
    feat: () => ['MDTM'],
    async handle({ session, arg }) {
      const stat = await session.store.stat(session.resolvePath(arg));
      if (stat.type !== 'file') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY', 'Could not get modification time: not a plain file.');
      session.reply(Reply.FileStatus, formatTimeVal(stat.mtime));
    },
  },
];
