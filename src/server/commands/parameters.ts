/** Transfer parameters: TYPE (A, I, L 8), MODE (S only), STRU (F only). */
import { Reply } from '../../protocol/replies.js';
import { reply, type CommandSpec } from './types.js';

export const parameterCommands: CommandSpec[] = [
  {
    verb: 'TYPE',
    preparesTransfer: true,
    syntax: 'TYPE <sp> A [N] | I | L 8',
    needsLogin: true,
    needsArgument: true,
    handle({ state, arg }) {
      const type = arg.trim().toUpperCase().replace(/\s+/g, ' ');
      if (type === 'A' || type === 'A N') {
        state.typeSet('A');
        return reply(Reply.CommandOk, 'Switching to ASCII mode.');
      }
      if (type === 'I' || type === 'L 8' || type === 'L8') {
        state.typeSet('I');
        return reply(Reply.CommandOk, 'Switching to Binary mode.');
      }
      if (/^(A [TC]|E( [NTC])?|L \d+)$/.test(type)) return reply(Reply.ParameterNotImplemented, `TYPE ${type} is not supported; use A or I.`);
      return reply(Reply.ArgumentSyntaxError, 'Unrecognised TYPE command.');
    },
  },
  {
    verb: 'MODE',
    preparesTransfer: true,
    syntax: 'MODE <sp> S',
    needsLogin: true,
    needsArgument: true,
    handle({ arg }) {
      const mode = arg.trim().toUpperCase();
      if (mode === 'S') return reply(Reply.CommandOk, 'Mode set to S.');
      if (mode === 'B' || mode === 'C') return reply(Reply.ParameterNotImplemented, 'Only stream mode (S) is supported.');
      return reply(Reply.ArgumentSyntaxError, 'Unrecognised MODE command.');
    },
  },
  {
    verb: 'STRU',
    preparesTransfer: true,
    syntax: 'STRU <sp> F',
    needsLogin: true,
    needsArgument: true,
    handle({ arg }) {
      const structure = arg.trim().toUpperCase();
      if (structure === 'F') return reply(Reply.CommandOk, 'Structure set to F.');
      if (structure === 'R' || structure === 'P') return reply(Reply.ParameterNotImplemented, 'Only file structure (F) is supported.');
      return reply(Reply.ArgumentSyntaxError, 'Unrecognised STRU command.');
    },
  },
];
