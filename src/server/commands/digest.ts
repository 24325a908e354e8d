/**
 * File digests: HASH with OPTS HASH and RANG (draft-bryan-ftpext-hash-02,
 * draft-bryan-ftp-range), and the older XCRC, XMD5, XSHA1 (XSHA) and XSHA256 that
 * clients still send. Hashing streams through the file (server/digest.ts) and stops when
 * the session closes; the user needs the "read" permission, and the storage's
 * confinement applies as for RETR.
 */
import { FtpError } from '../../errors.js';
import { parseDigestArguments, parseRang } from '../../protocol/extension-args.js';
import { Reply } from '../../protocol/replies.js';
import { digestFile, findHashAlgorithm, HASH_ALGORITHMS, type HashAlgorithm } from '../digest.js';
import type { SessionState } from '../session-state.js';
import { reply, type CommandReply, type CommandSpec } from './types.js';

/** draft-bryan-ftpext-hash 3.1: every algorithm, the selected one marked with "*". */
function hashFeatLine(selected: HashAlgorithm): string {
  return `HASH ${HASH_ALGORITHMS.map((algorithm) => (algorithm === selected ? `${algorithm}*` : algorithm)).join(';')}`;
}

/** OPTS HASH [algorithm] (draft 3.2): reports or selects the algorithm; an unknown one is 501 and changes nothing. */
export function optsHash(state: SessionState, name: string): CommandReply {
  if (name === '') return reply(Reply.CommandOk, state.hashAlgorithm);
  const algorithm = findHashAlgorithm(name);
  if (!algorithm) return reply(Reply.ArgumentSyntaxError, 'Unknown algorithm, current selection not changed.');
  state.hashAlgorithmSelected(algorithm);
  return reply(Reply.CommandOk, algorithm);
}

/** The size of a plain file; a directory is refused with `directoryReply` (HASH: 553, as the draft asks). */
async function plainFileSize(state: SessionState, path: string, directoryReply: number): Promise<number | CommandReply> {
  const stat = await state.storage.stat(path);
  return stat.type === 'file' ? stat.size : reply(directoryReply, 'Not a plain file: only files can be hashed.');
}

/**
 * XCRC, XMD5, XSHA1, XSHA256 "path [start end]", answered as ProFTPD mod_digest does
 * (the implementation clients meet most; Serv-U answers alike): 250 with the digest in
 * uppercase hexadecimal, the range's end excluded, an end past the file 501.
 */
function legacyDigest(verb: string, algorithm: HashAlgorithm, aliases: readonly string[] = []): CommandSpec {
  return {
    verb,
    aliases,
    syntax: `${verb} <sp> pathname [<sp> start <sp> end]`,
    needsLogin: true,
    needsArgument: true,
    permission: 'read',
    available: () => HASH_ALGORITHMS.includes(algorithm),
    feat: () => [verb, ...aliases],
    async handle({ state, arg, signal }) {
      const parsed = parseDigestArguments(arg);
      if (!parsed) return reply(Reply.ArgumentSyntaxError, `Syntax: ${verb} pathname [start end], with start < end.`);
      const path = state.resolvePath(parsed.path);
      const size = await plainFileSize(state, path, Reply.FileNotFound);
      if (typeof size !== 'number') return size;
      const { start, end } = parsed.range ?? { start: 0, end: size };
      if (end > size) return reply(Reply.ArgumentSyntaxError, `${verb}: end exceeds the file size (${size} bytes).`);
      const digest = await digestFile(state.storage, path, algorithm, { start, length: end - start, signal });
      return reply(Reply.FileActionOk, digest.hex.toUpperCase());
    },
  };
}

export const digestCommands: CommandSpec[] = [
  {
    verb: 'HASH',
    syntax: 'HASH <sp> pathname (OPTS HASH selects the algorithm, RANG a byte range)',
    needsLogin: true,
    needsArgument: true,
    permission: 'read',
    feat: ({ state }) => [hashFeatLine(state.hashAlgorithm)],
    async handle({ state, arg, signal }) {
      const range = state.rangeUsed();
      const algorithm = state.hashAlgorithm;
      const path = state.resolvePath(arg);
      const size = await plainFileSize(state, path, Reply.FileNameNotAllowed);
      if (typeof size !== 'number') return size;
      if (range && range.start >= size) throw new FtpError('FERRY_ERR_BAD_RESTART', `Range starts at byte ${range.start}, beyond the end of the file (${size} bytes).`);
      const start = range?.start ?? 0;
      // RANG's end is included; a range running past the end stops there (draft-bryan-ftp-range 4.3).
      const length = range ? range.end - range.start + 1 : undefined;
      const digest = await digestFile(state.storage, path, algorithm, { start, length, signal });
      // The draft's end-point is included too; an empty file is "0-0", the only range it allows.
      const last = Math.max(digest.start, digest.start + digest.length - 1);
      return reply(Reply.FileStatus, `${algorithm} ${digest.start}-${last} ${digest.hex} ${arg}`);
    },
  },
  {
    // Ranges apply to HASH only, so FEAT does not claim "RANG STREAM" (ranged RETR/STOR).
    verb: 'RANG',
    syntax: 'RANG <sp> start <sp> end (byte range for the next HASH; RANG 1 0 resets)',
    needsLogin: true,
    needsArgument: true,
    handle({ state, arg }) {
      const parsed = parseRang(arg);
      state.rangeSet(parsed === 'reset' ? null : parsed);
      if (parsed === null) return reply(Reply.ArgumentSyntaxError, 'RANG needs two byte offsets, start <= end; the whole file is selected again.');
      if (parsed === 'reset') return reply(Reply.PendingFurtherInfo, 'Range reset: HASH covers whole files.');
      return reply(Reply.PendingFurtherInfo, `Range set to bytes ${parsed.start}-${parsed.end} for the next HASH.`);
    },
  },
  legacyDigest('XCRC', 'CRC32'),
  legacyDigest('XMD5', 'MD5'),
  legacyDigest('XSHA1', 'SHA-1', ['XSHA']),
  legacyDigest('XSHA256', 'SHA-256'),
];
