/**
 * SITE and its subcommands: HELP, CHMOD, UTIME (both ProFTPD mod_site_misc forms) and
 * SYMLINK (off unless extensions.site_symlink). A subcommand the session cannot use
 * (its storage lacks the operation, or it is switched off) is left out of SITE HELP and
 * FEAT and answered 502; an unknown one is 504.
 */
import type { Permission } from '../../auth/permissions.js';
import { FtpError } from '../../errors.js';
import { parseChmod, parseSiteUtime, parseSymlink } from '../../protocol/extension-args.js';
import { parentPath, resolveLinkTarget } from '../../protocol/paths.js';
import { Reply } from '../../protocol/replies.js';
import { logFileOperation } from './file-operation.js';
import { storageSupports } from './times.js';
import { reply, type CommandContext, type CommandReply, type CommandSpec, type FeatureContext } from './types.js';

interface SiteCommand {
  name: string;
  syntax: string;
  permission?: Permission;
  available(context: FeatureContext): boolean;
  handle(context: CommandContext, arg: string): CommandReply | Promise<CommandReply>;
}

const done = (name: string) => reply(Reply.CommandOk, `SITE ${name} command successful.`);

function availableCommands(context: FeatureContext): SiteCommand[] {
  return SITE_COMMANDS.filter((command) => command.available(context));
}

const SITE_COMMANDS: SiteCommand[] = [
  {
    name: 'HELP',
    syntax: 'HELP [<sp> subcommand]',
    available: () => true,
    handle(context, arg) {
      const names = availableCommands(context).map((command) => command.name);
      const asked = arg.trim().toUpperCase();
      if (asked === '') return reply(Reply.HelpMessage, ['SITE commands recognized:', names.join(' '), 'Help OK.']);
      const command = availableCommands(context).find((candidate) => candidate.name === asked);
      return command ? reply(Reply.HelpMessage, `Syntax: SITE ${command.syntax}`) : reply(Reply.ArgumentSyntaxError, `Unknown SITE command "${asked}".`);
    },
  },
  {
    name: 'CHMOD',
    syntax: 'CHMOD <sp> octal-mode <sp> pathname (permission bits only: 0777 at most)',
    permission: 'write',
    available: (context) => storageSupports(context, 'setMode'),
    async handle(context, arg) {
      const { state } = context;
      const parsed = parseChmod(arg);
      if (!parsed) return reply(Reply.ArgumentSyntaxError, 'Syntax: SITE CHMOD octal-mode pathname');
      const path = state.resolvePath(parsed.path);
      await state.storage.setMode!(path, parsed.mode);
      logFileOperation(context, 'chmod', path, { mode: parsed.mode.toString(8).padStart(3, '0') });
      return done('CHMOD');
    },
  },
  {
    name: 'UTIME',
    syntax: 'UTIME <sp> YYYYMMDDhhmm[ss] <sp> pathname | UTIME <sp> pathname <sp> atime <sp> mtime <sp> ctime <sp> UTC',
    permission: 'write',
    available: (context) => storageSupports(context, 'setModifiedTime'),
    async handle(context, arg) {
      const { state } = context;
      const parsed = parseSiteUtime(arg);
      if (!parsed) return reply(Reply.ArgumentSyntaxError, 'Syntax: SITE UTIME YYYYMMDDhhmm[ss] pathname, or SITE UTIME pathname atime mtime ctime UTC (real UTC times).');
      const path = state.resolvePath(parsed.path);
      await state.storage.setModifiedTime!(path, parsed.modified, parsed.accessed);
      logFileOperation(context, 'utime', path, { modified: parsed.modified.toISOString() });
      return done('UTIME');
    },
  },
  {
    name: 'SYMLINK',
    syntax: 'SYMLINK <sp> target <sp> link (target relative to the link, inside your root)',
    permission: 'write',
    available: (context) => context.site.config.extensions.site_symlink && storageSupports(context, 'symlink'),
    async handle(context, arg) {
      const { state } = context;
      const parsed = parseSymlink(arg);
      if (!parsed) return reply(Reply.ArgumentSyntaxError, 'Syntax: SITE SYMLINK target link');
      const link = state.resolvePath(parsed.link);
      // Judged here on the virtual paths, and again by the storage on the real ones.
      const target = resolveLinkTarget(parentPath(link), parsed.target);
      if (target === null) throw new FtpError('FERRY_ERR_PERMISSION', 'A link target must be a relative path that stays inside your root.');
      await state.storage.stat(target); // no dangling links: the target must exist (550 otherwise)
      await state.storage.symlink!(parsed.target, link);
      logFileOperation(context, 'symlink', link, { target: parsed.target });
      return done('SYMLINK');
    },
  },
];

export const siteCommands: CommandSpec[] = [
  {
    verb: 'SITE',
    syntax: 'SITE <sp> subcommand (SITE HELP lists them)',
    needsLogin: true,
    needsArgument: true,
    feat: (context) =>
      availableCommands(context)
        .filter((command) => command.name !== 'HELP')
        .map((command) => `SITE ${command.name}`),
    async handle(context) {
      const { arg, state } = context;
      const [name = '', rest = ''] = splitFirstWord(arg.trim());
      const command = SITE_COMMANDS.find((candidate) => candidate.name === name.toUpperCase());
      if (!command) return reply(Reply.ParameterNotImplemented, `Unknown SITE command "${name.toUpperCase()}".`);
      if (!command.available(context)) return reply(Reply.NotImplemented, `SITE ${command.name} is not available here.`);
      if (command.permission && !state.user?.permissions.has(command.permission)) throw new FtpError('FERRY_ERR_PERMISSION');
      return command.handle(context, rest);
    },
  },
];

function splitFirstWord(text: string): [string, string] {
  const space = text.search(/\s/);
  return space === -1 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
}
