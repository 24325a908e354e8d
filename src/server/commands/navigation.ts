/** Directories: CWD, CDUP, PWD, MKD, RMD (and their X-variants from RFC 775). */
import { FtpError } from '../../errors.js';
import { parentPath } from '../../protocol/paths.js';
import { quotePath, Reply } from '../../protocol/replies.js';
import type { SessionState } from '../session-state.js';
import { announceFileOperation } from './file-operation.js';
import { reply, type CommandReply, type CommandSpec } from './types.js';

async function changeDirectory(state: SessionState, path: string): Promise<CommandReply> {
  const stat = await state.storage.stat(path);
  if (stat.type !== 'directory') throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY', 'Failed to change directory: not a directory.');
  state.changedDirectory(path);
  return reply(Reply.FileActionOk, `Directory successfully changed to ${quotePath(path)}.`);
}

export const navigationCommands: CommandSpec[] = [
  {
    verb: 'CWD',
    aliases: ['XCWD'],
    syntax: 'CWD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    handle: ({ state, arg }) => changeDirectory(state, state.resolvePath(arg)),
  },
  {
    verb: 'CDUP',
    aliases: ['XCUP'],
    syntax: 'CDUP (change to parent directory)',
    needsLogin: true,
    handle: ({ state }) => changeDirectory(state, parentPath(state.cwd)),
  },
  {
    verb: 'PWD',
    aliases: ['XPWD'],
    syntax: 'PWD (print working directory)',
    needsLogin: true,
    handle: ({ state }) => reply(Reply.PathCreated, `${quotePath(state.cwd)} is the current directory.`),
  },
  {
    verb: 'MKD',
    aliases: ['XMKD'],
    syntax: 'MKD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'mkdir',
    async handle(context) {
      const path = context.state.resolvePath(context.arg);
      await context.state.storage.mkdir(path);
      announceFileOperation(context, { op: 'mkdir', path });
      return reply(Reply.PathCreated, `${quotePath(path)} created.`);
    },
  },
  {
    verb: 'RMD',
    aliases: ['XRMD'],
    syntax: 'RMD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'delete',
    async handle(context) {
      const { state, arg } = context;
      const path = state.resolvePath(arg);
      if (path === '/' || state.cwd === path || state.cwd.startsWith(path + '/')) {
        throw new FtpError('FERRY_ERR_PERMISSION', 'Cannot remove the current directory or one of its parents.');
      }
      await state.storage.rmdir(path);
      announceFileOperation(context, { op: 'rmdir', path });
      return reply(Reply.FileActionOk, 'Directory removed.');
    },
  },
];
