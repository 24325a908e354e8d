/** Directories: CWD, CDUP, PWD, MKD, RMD (and their X-variants from RFC 775). */
import { FtpError } from '../../errors.js';
import { parentPath } from '../../protocol/paths.js';
import { quotePath, Reply } from '../../protocol/replies.js';
import type { Session } from '../session.js';
import type { CommandSpec } from './types.js';

async function changeDirectory(session: Session, path: string): Promise<void> {
  const stat = await session.store.stat(path);
  if (stat.type !== 'directory') throw new FtpError('FERRY_ERR_NOT_A_DIRECTORY', 'Failed to change directory: not a directory.');
  session.cwd = path;
  session.reply(Reply.FileActionOk, `Directory successfully changed to ${quotePath(path)}.`);
}

export const navigationCommands: CommandSpec[] = [
  {
    verb: 'CWD',
    aliases: ['XCWD'],
    syntax: 'CWD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    handle: ({ session, arg }) => changeDirectory(session, session.resolvePath(arg)),
  },
  {
    verb: 'CDUP',
    aliases: ['XCUP'],
    syntax: 'CDUP (change to parent directory)',
    needsLogin: true,
    handle: ({ session }) => changeDirectory(session, parentPath(session.cwd)),
  },
  {
    verb: 'PWD',
    aliases: ['XPWD'],
    syntax: 'PWD (print working directory)',
    needsLogin: true,
    handle({ session }) {
      session.reply(Reply.PathCreated, `${quotePath(session.cwd)} is the current directory.`);
    },
  },
  {
    verb: 'MKD',
    aliases: ['XMKD'],
    syntax: 'MKD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'mkdir',
    async handle({ session, arg }) {
      const path = session.resolvePath(arg);
      await session.store.mkdir(path);
      session.reply(Reply.PathCreated, `${quotePath(path)} created.`);
    },
  },
  {
    verb: 'RMD',
    aliases: ['XRMD'],
    syntax: 'RMD <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'delete',
    async handle({ session, arg }) {
      const path = session.resolvePath(arg);
      if (path === '/' || session.cwd === path || session.cwd.startsWith(path + '/')) {
        throw new FtpError('FERRY_ERR_PERMISSION', 'Cannot remove the current directory or one of its parents.');
      }
      await session.store.rmdir(path);
      session.reply(Reply.FileActionOk, 'Directory removed.');
    },
  },
];
