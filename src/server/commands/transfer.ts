/** File transfers: RETR, STOR, STOU, APPE, REST, ABOR, ALLO. */
import { randomBytes } from 'node:crypto';
import { FtpError } from '../../errors.js';
import { baseName, joinPath, parentPath } from '../../protocol/paths.js';
import { Reply } from '../../protocol/replies.js';
import type { WriteOptions } from '../../storage/backend.js';
import { receiveUpload, sendDownload } from '../data/transfer.js';
import type { SessionState } from '../session-state.js';
import { reply, type CommandContext, type CommandSpec, type Outcome } from './types.js';

function modeName(state: SessionState): string {
  return state.transferType === 'A' ? 'ASCII' : 'BINARY';
}

/** RANG ranges apply to HASH only: a transfer must not silently ignore one and move the whole file. */
function refusePendingRange(state: SessionState): void {
  if (state.range) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'RANG applies to HASH only here; send RANG 1 0 before transferring.');
}

async function retrieve({ state, arg, verb, restOffset }: CommandContext): Promise<Outcome> {
  refusePendingRange(state);
  const path = state.resolvePath(arg);
  const store = state.storage;
  if (restOffset > 0 && !store.capabilities.resumeRead) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Resumed downloads are not supported here.');
  const download = await store.read(path, { start: restOffset });
  return {
    transfer: {
      verb,
      path,
      opening: `Opening ${modeName(state)} mode data connection for ${baseName(path)} (${download.size} bytes).`,
      work: (socket, options) => sendDownload(download, socket, options),
      release: () => download.close(), // also when the data connection never opened
    },
  };
}

/** STOR, APPE and STOU all upload; they differ in where and how the bytes land. */
async function upload(state: SessionState, verb: string, path: string, options: WriteOptions, opening: string, completion?: string): Promise<Outcome> {
  refusePendingRange(state);
  const store = state.storage;
  if (options.append && !store.capabilities.append) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'APPE is not supported here.');
  if ((options.start ?? 0) > 0 && !store.capabilities.resumeWrite) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Resumed uploads are not supported here.');
  const sink = await store.write(path, options);
  return {
    transfer: {
      verb,
      path,
      upload: true,
      opening,
      completion,
      work: (socket, transferOptions) => receiveUpload(socket, sink, transferOptions),
      commit: () => sink.commit(),
      onFailure: () => sink.abort(),
    },
  };
}

async function uniqueName(state: SessionState, arg: string): Promise<string> {
  const base = arg.trim() === '' ? state.cwd : state.resolvePath(arg);
  const [dir, stem] = arg.trim() === '' ? [base, 'ferry'] : [parentPath(base), baseName(base)];
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = joinPath(dir, attempt === 0 && arg.trim() !== '' ? stem : `${stem}.${randomBytes(4).toString('hex')}`);
    const exists = await state.storage.stat(candidate).then(
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
    handle({ state, arg, verb, restOffset }) {
      const path = state.resolvePath(arg);
      return upload(state, verb, path, { start: restOffset }, `Ok to send data for ${baseName(path)}.`);
    },
  },
  {
    verb: 'APPE',
    opensDataConnection: true,
    syntax: 'APPE <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'write',
    handle({ state, arg, verb }) {
      const path = state.resolvePath(arg);
      return upload(state, verb, path, { append: true }, `Ok to append data to ${baseName(path)}.`);
    },
  },
  {
    verb: 'STOU',
    opensDataConnection: true,
    syntax: 'STOU [<sp> pathname] (store under a unique name)',
    needsLogin: true,
    permission: 'write',
    async handle({ state, arg, verb }) {
      const path = await uniqueName(state, arg);
      const name = baseName(path);
      // RFC 1123 4.1.2.9: the 150 reply names the file as "FILE: name".
      return upload(state, verb, path, {}, `FILE: ${name}`, `Transfer complete (unique file name: ${name}).`);
    },
  },
  {
    verb: 'REST',
    syntax: 'REST <sp> byte-offset',
    needsLogin: true,
    needsArgument: true,
    feat: () => ['REST STREAM'],
    handle({ state, arg }) {
      if (!/^\d{1,15}$/.test(arg.trim())) return reply(Reply.ArgumentSyntaxError, 'REST needs a byte offset (a whole number).');
      const offset = Number(arg.trim());
      state.restartAt(offset);
      return reply(Reply.PendingFurtherInfo, `Restarting at ${offset}. Send STOR or RETR to resume.`);
    },
  },
  {
    verb: 'ABOR',
    syntax: 'ABOR (abort the transfer in progress)',
    needsLogin: true,
    duringTransfer: true,
    async handle({ transfer, data }) {
      if (!transfer) {
        data.reset();
        return reply(Reply.DataOpenNoTransfer, 'No transfer to abort.');
      }
      transfer.abort('ABOR from the client');
      await transfer.done;
      return reply(Reply.ClosingData, 'Abort successful.');
    },
  },
  {
    verb: 'ALLO',
    syntax: 'ALLO <sp> bytes (accepted; space is not reserved)',
    needsLogin: true,
    handle: () => reply(Reply.CommandSuperfluous, 'ALLO command ignored.'),
  },
];
