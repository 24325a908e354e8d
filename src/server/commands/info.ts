/** Information and options: SYST, NOOP, HELP, FEAT, OPTS (SITE is in site.ts). */
import { parseMlstOpts } from '../../protocol/listing.js';
import { Reply } from '../../protocol/replies.js';
import { optsHash } from './digest.js';
import { reply, type CommandSpec } from './types.js';

export const infoCommands: CommandSpec[] = [
  {
    verb: 'SYST',
    syntax: 'SYST (system type)',
    needsLogin: false,
    handle: () => reply(Reply.SystemType, 'UNIX Type: L8'),
  },
  {
    verb: 'NOOP',
    syntax: 'NOOP',
    needsLogin: false,
    handle: () => reply(Reply.CommandOk, 'NOOP ok.'),
  },
  {
    verb: 'HELP',
    syntax: 'HELP [<sp> command]',
    needsLogin: false,
    handle({ commands, arg, site, state }) {
      const verb = arg.trim().toUpperCase();
      if (verb === '') return reply(Reply.HelpMessage, ['The following commands are recognized:', ...commands.helpRows({ site, state }), 'Help OK.']);
      const spec = commands.get(verb);
      return spec ? reply(Reply.HelpMessage, `Syntax: ${spec.syntax}`) : reply(Reply.ArgumentSyntaxError, `Unknown command "${verb}".`);
    },
  },
  {
    verb: 'FEAT',
    syntax: 'FEAT (list extensions)',
    needsLogin: false,
    handle: ({ commands, site, state }) => reply(Reply.SystemStatus, ['Features:', ...commands.featLines({ site, state }), 'End']),
  },
  {
    verb: 'OPTS',
    syntax: 'OPTS <sp> UTF8 ON | MLST facts | HASH [algorithm]',
    needsLogin: false,
    needsArgument: true,
    feat: () => ['UTF8'],
    handle({ state, arg }) {
      const [option = '', ...rest] = arg.trim().split(/\s+/);
      const value = rest.join(' ');
      switch (option.toUpperCase()) {
        case 'UTF8':
        case 'UTF-8':
          // UTF-8 from now on, whatever the site's or user's legacy charset (RFC 2640);
          // OFF cannot be honoured: the client's names would have no agreed charset.
          if (value.toUpperCase() === 'OFF') return reply(Reply.ParameterNotImplemented, 'UTF8 cannot be turned off.');
          state.utf8Requested();
          return reply(Reply.CommandOk, 'UTF8 mode on.');
        case 'MLST':
          state.mlstFactsSet(parseMlstOpts(value));
          return reply(Reply.CommandOk, `MLST OPTS ${[...state.mlstFacts].map((f) => `${f};`).join('')}`);
        case 'HASH':
          return optsHash(state, value);
        default:
          return reply(Reply.ArgumentSyntaxError, 'Option not understood.');
      }
    },
  },
];
