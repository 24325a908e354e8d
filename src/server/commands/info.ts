/** Information and options: SYST, NOOP, HELP, FEAT, OPTS, SITE. */
import { parseMlstOpts } from '../../protocol/listing.js';
import { Reply } from '../../protocol/replies.js';
import type { CommandSpec } from './types.js';

const SITE_COMMANDS = ['HELP'];

export const infoCommands: CommandSpec[] = [
  {
    verb: 'SYST',
    syntax: 'SYST (system type)',
    needsLogin: false,
    handle({ session }) {
      session.reply(Reply.SystemType, 'UNIX Type: L8');
    },
  },
  {
    verb: 'NOOP',
    syntax: 'NOOP',
    needsLogin: false,
    handle({ session }) {
      session.reply(Reply.CommandOk, 'NOOP ok.');
    },
  },
  {
    verb: 'HELP',
    syntax: 'HELP [<sp> command]',
    needsLogin: false,
    handle({ session, arg }) {
      const table = session.server.commands;
      const verb = arg.trim().toUpperCase();
      if (verb === '') {
        session.reply(Reply.HelpMessage, ['The following commands are recognized:', ...table.helpRows(), 'Help OK.']);
        return;
      }
      const spec = table.get(verb);
      if (!spec) session.reply(Reply.ArgumentSyntaxError, `Unknown command "${verb}".`);
      else session.reply(Reply.HelpMessage, `Syntax: ${spec.syntax}`);
    },
  },
  {
    verb: 'FEAT',
    syntax: 'FEAT (list extensions)',
    needsLogin: false,
    handle({ session }) {
      session.reply(Reply.SystemStatus, ['Features:', ...session.server.commands.featLines(session), 'End']);
    },
  },
  {
    verb: 'OPTS',
    syntax: 'OPTS <sp> UTF8 ON | MLST facts',
    needsLogin: false,
    needsArgument: true,
    feat: () => ['UTF8'],
    handle({ session, arg }) {
      const [option = '', ...rest] = arg.trim().split(/\s+/);
      const value = rest.join(' ');
      switch (option.toUpperCase()) {
        case 'UTF8':
        case 'UTF-8':
          // Paths are always UTF-8 (RFC 2640); OFF cannot be honoured.
          if (value.toUpperCase() === 'OFF') session.reply(Reply.ParameterNotImplemented, 'UTF8 cannot be turned off.');
          else session.reply(Reply.CommandOk, 'Always in UTF8 mode.');
          return;
        case 'MLST': {
          session.mlstFacts = parseMlstOpts(value);
          session.reply(Reply.CommandOk, `MLST OPTS ${[...session.mlstFacts].map((f) => `${f};`).join('')}`);
          return;
        }
        default:
          session.reply(Reply.ArgumentSyntaxError, 'Option not understood.');
      }
    },
  },
  {
    verb: 'SITE',
    syntax: 'SITE <sp> HELP',
    needsLogin: true,
    needsArgument: true,
    handle({ session, arg }) {
      const sub = arg.trim().split(/\s+/)[0]!.toUpperCase();
      if (sub === 'HELP') session.reply(Reply.HelpMessage, ['SITE commands recognized:', SITE_COMMANDS.join(' '), 'Help OK.']);
      else session.reply(Reply.ParameterNotImplemented, `Unknown SITE command "${sub}".`);
    },
  },
];
