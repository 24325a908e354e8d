/** Single-file operations: DELE, RNFR/RNTO, SIZE, MDTM. */
import { FtpError } from '../../errors.js';
import { formatTimeVal } from '../../protocol/listing.js';
import { Reply } from '../../protocol/replies.js';
import { announceFileOperation } from './file-operation.js';
import { reply, type CommandSpec } from './types.js';

export const fileCommands: CommandSpec[] = [
  {
    verb: 'DELE',
    syntax: 'DELE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'delete',
    async handle(context) {
      const path = context.state.resolvePath(context.arg);
      await context.state.storage.delete(path);
      announceFileOperation(context, { op: 'delete', path });
      return reply(Reply.FileActionOk, 'File deleted.');
    },
  },
  {
    verb: 'RNFR',
    syntax: 'RNFR <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'rename',
    async handle({ state, arg }) {
      const path = state.resolvePath(arg);
      if (path === '/') throw new FtpError('FERRY_ERR_PERMISSION', 'The root directory cannot be renamed.');
      await state.storage.stat(path);
      state.renameFromSet(path);
      return reply(Reply.PendingFurtherInfo, 'Ready for RNTO.');
    },
  },
  {
    verb: 'RNTO',
    syntax: 'RNTO <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'rename',
    async handle(context) {
      const { state, arg, renameFrom } = context;
      if (renameFrom === null) return reply(Reply.BadSequence, 'RNFR required first.');
      const path = state.resolvePath(arg);
      await state.storage.rename(renameFrom, path);
      announceFileOperation(context, { op: 'rename', path, from: renameFrom });
      return reply(Reply.FileActionOk, 'Rename successful.');
    },
  },
  {
    verb: 'SIZE',
    syntax: 'SIZE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'list',
    feat: () => ['SIZE'],
    async handle({ state, arg }) {
      const stat = await state.storage.stat(state.resolvePath(arg));
      if (stat.type !== 'file') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY', 'Could not get file size: not a plain file.');
      return reply(Reply.FileStatus, String(stat.size));
    },
  },
  {
    verb: 'MDTM',
    syntax: 'MDTM <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'list',
    feat: () => ['MDTM'],
    async handle({ state, arg }) {
      const stat = await state.storage.stat(state.resolvePath(arg));
      if (stat.type !== 'file') throw new FtpError('FERRY_ERR_IS_A_DIRECTORY', 'Could not get modification time: not a plain file.');
      return reply(Reply.FileStatus, formatTimeVal(stat.mtime));
    },
  },
];
