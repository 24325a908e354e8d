/**
 * `ferry quote URL CMD [ARG...]`: send one raw command after login and print the reply
 * (lftp's `quote`, curl's `-Q`). Commands that open data connections or change the
 * connection's security have their own ferry commands and are refused here: their
 * replies would leave the dialogue out of step.
 */
import type { Command } from 'commander';
import { replyError } from '../../client/errors.js';
import { exitCodeFor, UsageError, type ConnectFlags } from '../remote.js';
import { connectionOptions } from './connection-options.js';
import { withClient } from './with-client.js';

const REFUSED: Readonly<Record<string, string>> = {
  PASV: 'data connections', EPSV: 'data connections', PORT: 'data connections', EPRT: 'data connections',
  LPSV: 'data connections', LPRT: 'data connections',
  RETR: 'ferry get', STOR: 'ferry put', STOU: 'ferry put', APPE: 'ferry put --append',
  LIST: 'ferry ls', NLST: 'ferry ls', MLSD: 'ferry ls',
  AUTH: '--tls', PBSZ: '--tls', PROT: '--tls', CCC: '--tls', REIN: 'a new connection', USER: 'the URL', PASS: 'the URL', QUIT: 'nothing (ferry quits by itself)',
};

function quotedCommand(words: string[]): string {
  const command = words.join(' ');
  if (/[\r\n\0]/.test(command)) throw new UsageError('the command must not contain CR, LF or NUL');
  // From the joined line: `quote URL "RETR x"` is one argument holding verb and path.
  const verb = (command.trim().split(/\s+/)[0] ?? '').toUpperCase();
  if (verb === '') throw new UsageError('no command given');
  const instead = REFUSED[verb];
  if (instead) throw new UsageError(`${verb} cannot be sent with quote; use ${instead}`);
  return command;
}

export function registerQuote(program: Command): void {
  connectionOptions(program.command('quote <url> <command...>').description('send one raw FTP command after login and print the reply, e.g. ferry quote URL SITE CHMOD 644 file'))
    .action((url: string, words: string[], flags: ConnectFlags) => {
      let command: string;
      try {
        command = quotedCommand(words); // before connecting: a usage error needs no server
      } catch (error) {
        process.exitCode = exitCodeFor(error);
        return;
      }
      return withClient(url, flags, async (client) => {
        const reply = await client.send(command);
        process.stdout.write(`${reply.lines.join('\n')}\n`);
        if (reply.code >= 400) throw replyError(command, reply.code, reply.message);
      });
    });
}
