/** Transfer parameters: TYPE (A, I, L 8), MODE (S only), STRU (F only). */
import { Reply } from '../../protocol/replies.js';
import type { CommandSpec } from './types.js';

export const parameterCommands: CommandSpec[] = [
  {
    verb: 'TYPE',
    preparesTransfer: true,
    syntax: 'TYPE <sp> A [N] | I | L 8',
    needsLogin: true,
    needsArgument: true,
    handle({ session, arg }) {
      const type = arg.trim().toUpperCase().replace(/\s+/g, ' ');
      if (type === 'A' || type === 'A N') {
        session.transferType = 'A';
        session.reply(Reply.CommandOk, 'Switching to ASCII mode.');
      } else if (type === 'I' || type === 'L 8' || type === 'L8') {
        session.transferType = 'I';
        session.reply(Reply.CommandOk, 'Switching to Binary mode.');
      } else if (/^(A [TC]|E( [NTC])?|L \d+)$/.test(type)) {
        session.reply(Reply.ParameterNotImplemented, `TYPE ${type} is not supported; use A or I.`);
      } else {
        session.reply(Reply.ArgumentSyntaxError, 'Unrecognised TYPE command.');
      }
    },
  },
  {
    verb: 'MODE',
    preparesTransfer: true,
    syntax: 'MODE <sp> S',
    needsLogin: true,
    needsArgument: true,
    handle({ session, arg }) {
      const mode = arg.trim().toUpperCase();
      if (mode === 'S') session.reply(Reply.CommandOk, 'Mode set to S.');
      else if (mode === 'B' || mode === 'C') session.reply(Reply.ParameterNotImplemented, 'Only stream mode (S) is supported.');
      else session.reply(Reply.ArgumentSyntaxError, 'Unrecognised MODE command.');
    },
  },
  {
    verb: 'STRU',
    preparesTransfer: true,
    syntax: 'STRU <sp> F',
    needsLogin: true,
    needsArgument: true,
    handle({ session, arg }) {
      const structure = arg.trim().toUpperCase();
      if (structure === 'F') session.reply(Reply.CommandOk, 'Structure set to F.');
      else if (structure === 'R' || structure === 'P') session.reply(Reply.ParameterNotImplemented, 'Only file structure (F) is supported.');
      else session.reply(Reply.ArgumentSyntaxError, 'Unrecognised STRU command.');
    },
  },
];
