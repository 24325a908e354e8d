/** File transfers: RETR, STOR, STOU, APPE, REST, ABOR, ALLO. */
import { randomBytes } from 'node:crypto';
import { FtpError } from '../../errors.js';
import { baseName, joinPath, parentPath } from '../../protocol/paths.js';
import { Reply } from '../../protocol/replies.js';
import type { WriteOptions } from '../../storage/backend.js';
import { receiveUpload, sendDownload } from '../data/transfer.js';
import type { Session } from '../session.js';
import { runTransfer } from '../transfer-runner.js';
import type { CommandContext, CommandSpec } from './types.js';

function modeName(session: Session): string {
  return session.transferType === 'A' ? 'ASCII' : 'BINARY';
}

async function retrieve({ session, arg, verb, restOffset }: CommandContext): Promise<void> {
  const path = session.resolvePath(arg);
  const store = session.store;
  if (restOffset > 0 && !store.capabilities.resumeRead) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Resumed downloads are not supported here.');
  const download = await store.read(path, { start: restOffset });
  await runTransfer(session, {
    verb,
    path,
    opening: `Opening ${modeName(session)} mode data connection for ${baseName(path)} (${download.size} bytes).`,
    work: (socket, options) => sendDownload(download, socket, options),
  });
  download.stream.destroy(); // closes the file (also when the data connection never opened)
}

/** STOR, APPE and STOU all upload; they differ in where and how the bytes land. */
async function upload(session: Session, verb: string, path: string, options: WriteOptions, opening: string, completion?: string): Promise<void> {
  const store = session.store;
  if (options.append && !store.capabilities.append) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'APPE is not supported here.');
  if ((options.start ?? 0) > 0 && !store.capabilities.resumeWrite) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Resumed uploads are not supported here.');
  const sink = await store.write(path, options);
  await runTransfer(session, {
    verb,
    path,
    upload: true,
    opening,
    completion,
    work: async (socket, transferOptions) => {
      const result = await receiveUpload(socket, sink, transferOptions);
      await sink.commit();
      return result;
    },
    onFailure: () => sink.abort(),
  });
}

async function uniqueName(session: Session, arg: string): Promise<string> {
  const base = arg.trim() === '' ? session.cwd : session.resolvePath(arg);
  const [dir, stem] = arg.trim() === '' ? [base, 'ferry'] : [parentPath(base), baseName(base)];
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = joinPath(dir, attempt === 0 && arg.trim() !== '' ? stem : `${stem}.${randomBytes(4).toString('hex')}`);
    const exists = await session.store.stat(candidate).then(
      () => true,
      () => false,
    );
    if (!exists) return candidate;
  }
  throw new FtpError('FERRY_ERR_BAD_NAME', 'Could not find a unique file name.');
}

export const transferCommands: CommandSpec[] = [
  {
    verb: 'RETR',
    opensDataConnection: true,
    syntax: 'RETR <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'read',
    handle: retrieve,
  },
  {
    verb: 'STOR',
    opensDataConnection: true,
    syntax: 'STOR <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'write',
    handle({ session, arg, verb, restOffset }) {
      const path = session.resolvePath(arg);
      return upload(session, verb, path, { start: restOffset }, `Ok to send data for ${baseName(path)}.`);
    },
  },
  {
    verb: 'APPE',
    opensDataConnection: true,
    syntax: 'APPE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'write',
    handle({ session, arg, verb }) {
      const path = session.resolvePath(arg);
      return upload(session, verb, path, { append: true }, `Ok to append data to ${baseName(path)}.`);
    },
  },
  {
    verb: 'STOU',
    opensDataConnection: true,
    syntax: 'STOU [<sp> pathname] (store under a unique name)',
    needsLogin: true,
    permission: 'write',
    async handle({ session, arg, verb }) {
      const path = await uniqueName(session, arg);
      const name = baseName(path);
      // RFC 1123 4.1.2.9: the 150 reply names the file as "FILE: name".
      return upload(session, verb, path, {}, `FILE: ${name}`, `Transfer complete (unique file name: ${name}).`);
    },
  },
  {
    verb: 'REST',
    syntax: 'REST <sp> byte-offset',
    needsLogin: true,
    needsArgument: true,
    feat: () => ['REST STREAM'],
    handle({ session, arg }) {
      if (!/^\d{1,15}$/.test(arg.trim())) {
        session.reply(Reply.ArgumentSyntaxError, 'REST needs a byte offset (a whole number).');
        return;
      }
      session.restOffset = Number(arg.trim());
      session.reply(Reply.PendingFurtherInfo, `Restarting at ${session.restOffset}. Send STOR or RETR to resume.`);
    },
  },
  {
    verb: 'ABOR',
    syntax: 'ABOR (abort the transfer in progress)',
    needsLogin: true,
    duringTransfer: true,
    async handle({ session }) {
      const transfer = session.transfer;
      if (!transfer) {
        session.data.reset();
        session.reply(Reply.DataOpenNoTransfer, 'No transfer to abort.');
        return;
      }
      transfer.abort();
      await transfer.done;
      session.reply(Reply.ClosingData, 'Abort successful.');
    },
  },
  {
    verb: 'ALLO',
    syntax: 'ALLO <sp> bytes (accepted; space is not reserved)',
    needsLogin: true,
    handle({ session }) {
      session.reply(Reply.CommandSuperfluous, 'ALLO command ignored.');
    },
  },
];
