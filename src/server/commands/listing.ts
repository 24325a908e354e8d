/** Listings: LIST, NLST, MLSD over a data connection; MLST and STAT over the control one. */
import { Readable } from 'node:stream';
import type { Permission } from '../../auth/permissions.js';
import { FtpError } from '../../errors.js';
import {
  formatListLine,
  formatMlsxLine,
  mlstFeatLine,
  parseListArguments,
  type EntryPermissions,
  type ListOptions,
} from '../../protocol/listing.js';
import type { NameCodec } from '../../protocol/charset.js';
import { compileGlob, matchCompiledGlob, type CompiledGlob } from '../../protocol/glob.js';
import { baseName, hasWildcard, parentPath } from '../../protocol/paths.js';
import { formatReply, quotePath, Reply } from '../../protocol/replies.js';
import type { DirectoryListing, FileStat } from '../../storage/backend.js';
import { sendData } from '../data/transfer.js';
import { filterInTimeSlices } from '../time-sliced.js';
import { reply, type CommandContext, type CommandSpec, type Outcome } from './types.js';

interface Listing {
  path: string;
  entries: FileStat[];
  /** limits.listing_max_entries stopped the directory reading early. */
  truncated: boolean;
  options: ListOptions;
}

/** A directory's entries, at most limits.listing_max_entries of them (pure-ftpd truncates too, with a notice). */
async function readDirectory({ site, state, logger }: CommandContext, path: string): Promise<DirectoryListing> {
  const maxEntries = site.config.limits.listing_max_entries;
  const listing = await state.storage.list(path, { maxEntries });
  if (listing.truncated) logger.warn({ path, maxEntries }, 'listing truncated at limits.listing_max_entries');
  return listing;
}

/** The pattern, compiled, once it is within the configured caps (refused before any matching). */
function compileLimitedGlob({ site, logger }: CommandContext, pattern: string): CompiledGlob {
  const { glob_max_length: maxLength, glob_max_wildcards: maxWildcards } = site.config.limits;
  const glob = pattern.length > maxLength ? null : compileGlob(pattern);
  if (glob && glob.wildcards <= maxWildcards) return glob;
  const reason = glob ? `more than ${maxWildcards} wildcards` : `longer than ${maxLength} characters`;
  logger.info({ length: pattern.length, wildcards: glob?.wildcards }, `wildcard pattern refused: ${reason}`);
  throw new FtpError('FERRY_ERR_GLOB_TOO_COMPLEX', `Wildcard pattern refused: ${reason}.`);
}

/** Listing order: by name, or newest first with -t; -r reverses either. */
function listingOrder(options: ListOptions): (a: FileStat, b: FileStat) => number {
  const byName = (a: FileStat, b: FileStat) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const order = options.byTime ? (a: FileStat, b: FileStat) => b.mtime.getTime() - a.mtime.getTime() || byName(a, b) : byName;
  return options.reverse ? (a, b) => order(b, a) : order;
}

/** What LIST/NLST/STAT show for an argument: a directory's entries, one file, or a glob's matches. */
async function gather(context: CommandContext, arg: string): Promise<Listing> {
  const { state } = context;
  const { options, path: target } = parseListArguments(arg);
  if (options.recursive) throw new FtpError('FERRY_ERR_UNSUPPORTED', 'Recursive listings (-R) are not supported; list each directory.');
  const path = target === '' ? state.cwd : state.resolvePath(target);
  const literal = await state.storage.stat(path).catch((error: unknown) => {
    if (hasWildcard(baseName(path))) return null;
    throw error;
  });
  let entries: FileStat[];
  let truncated = false;
  if (literal === null) {
    const glob = compileLimitedGlob(context, baseName(path));
    const listing = await readDirectory(context, parentPath(path));
    // Matched in time slices: a directory of up to limits.listing_max_entries must not stall other sessions.
    entries = await filterInTimeSlices(listing, (entry) => matchCompiledGlob(glob, entry.name));
    truncated = listing.truncated === true;
  } else if (literal.type === 'directory') {
    const listing = await readDirectory(context, path);
    entries = listing;
    truncated = listing.truncated === true;
  } else {
    entries = [literal];
  }
  entries.sort(listingOrder(options));
  return { path, entries: entries.filter(listable), truncated, options };
}

/** The note that ends a truncated listing's reply. */
function truncationNote({ site }: CommandContext): string {
  return `output truncated: only the first ${site.config.limits.listing_max_entries} directory entries were read`;
}

/** A name with CR or LF would break the line-based listing (and no FTP command can name it). */
function listable(entry: FileStat): boolean {
  return !/[\r\n]/.test(entry.name);
}

function permissionsOf({ state }: CommandContext): EntryPermissions {
  const has = (permission: Permission) => state.user?.permissions.has(permission) ?? false;
  return { read: has('read'), write: has('write'), delete: has('delete'), rename: has('rename'), mkdir: has('mkdir'), list: has('list') };
}

/** Each entry's line, formatted only when it is asked for. */
function* formatted(entries: readonly FileStat[], format: (entry: FileStat) => string): Generator<string> {
  for (const entry of entries) yield format(entry);
}

/** Listing text is handed to the data connection in pieces of about this size. */
const LISTING_CHUNK_BYTES = 16 * 1024;

/** Entries skipped because the session's charset cannot write their names: never sent mangled, only counted. */
function logSkipped({ logger, state }: CommandContext, path: string, skipped: number): void {
  if (skipped > 0) logger.debug({ path, skipped, charset: state.nameCodec.name }, 'listing skipped names the charset cannot represent');
}

/**
 * The lines as CRLF-ended bytes in the session's charset, in pieces of about
 * LISTING_CHUNK_BYTES; a line the charset cannot represent is left out.
 */
function* listingChunks(lines: Iterable<string>, codec: NameCodec, onSkipped: (count: number) => void): Generator<Buffer> {
  const pending: Buffer[] = [];
  let size = 0;
  let skipped = 0;
  for (const line of lines) {
    const bytes = codec.encode(line + '\r\n');
    if (!bytes) {
      skipped++;
      continue;
    }
    pending.push(bytes);
    size += bytes.length;
    if (size >= LISTING_CHUNK_BYTES) {
      yield Buffer.concat(pending);
      pending.length = 0;
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
  onSkipped(skipped);
}

/**
 * Sends a listing as text over the data connection (always with CRLF line ends). The
 * text is made as the connection takes it: a client that never reads holds the socket
 * buffers and one piece, not the whole listing (up to limits.listing_max_entries lines).
 */
function sendListing(context: CommandContext, path: string, lines: Iterable<string>, truncated: boolean): Outcome {
  return {
    transfer: {
      verb: context.verb,
      path,
      listing: true,
      opening: 'Here comes the directory listing.',
      completion: truncated ? `Directory send OK (${truncationNote(context)}).` : 'Directory send OK.',
      work: async (socket, options) => {
        const chunks = listingChunks(lines, context.state.nameCodec, (skipped) => logSkipped(context, path, skipped));
        const text = Readable.from(chunks, { objectMode: false, highWaterMark: LISTING_CHUNK_BYTES });
        // Listings are already CRLF; TYPE A conversion must not run twice.
        return { bytes: await sendData(text, socket, { ...options, ascii: false }) };
      },
    },
  };
}

/** What one continuation line of a multi-line reply adds to it: " ", the text, CRLF (null: not representable in the charset). */
function continuationBytes(line: string, codec: NameCodec): number | null {
  const bytes = codec.encode(line);
  return bytes && bytes.length + 3;
}

/**
 * The lines of a STAT <path> reply, cut so the whole reply stays within
 * limits.max_pending_output: past it the session would stop reading the client's
 * commands anyway, and a listing is what LIST and MLSD are for.
 */
function statListingLines(context: CommandContext, path: string, entries: readonly FileStat[], truncated: boolean): string[] {
  const cap = context.site.config.limits.max_pending_output;
  const header = `Status of ${quotePath(path)}:`;
  const footer = [...(truncated ? [`(${truncationNote(context)})`] : []), 'End of status'];
  const cutNote = `... output truncated at ${cap} bytes (limits.max_pending_output); use LIST or MLSD over a data connection`;
  const frame = Buffer.byteLength(formatReply(Reply.FileStatus, [header, ...footer]), 'utf8');
  const codec = context.state.nameCodec;
  const cutNoteBytes = continuationBytes(cutNote, codec)!;
  const now = new Date();
  const lines: string[] = [];
  let bytes = frame;
  let skipped = 0;
  /** How many lines still fit once the cut note is added. */
  let fitWithNote = 0;
  for (const line of formatted(entries, (entry) => formatListLine(entry, now))) {
    const lineBytes = continuationBytes(line, codec);
    if (lineBytes === null) {
      skipped++;
      continue;
    }
    bytes += lineBytes;
    if (bytes > cap) {
      context.logger.warn({ path, cap, lines: fitWithNote, entries: entries.length }, 'STAT reply truncated at limits.max_pending_output');
      return [header, ...lines.slice(0, fitWithNote), cutNote, ...footer];
    }
    lines.push(line);
    if (bytes + cutNoteBytes <= cap) fitWithNote = lines.length;
  }
  logSkipped(context, path, skipped);
  return [header, ...lines, ...footer];
}

function statusLines({ state, connection, transfer, data }: CommandContext): string[] {
  return [
    'Ferry FTP server status:',
    `Connected from ${connection.remoteAddress}`,
    state.user ? `Logged in as ${state.user.name}` : 'Not logged in',
    `TYPE: ${state.transferType === 'A' ? 'ASCII' : 'BINARY'}, STRUcture: File, MODE: Stream`,
    transfer ? `Transferring ${transfer.verb} ${transfer.path}: ${transfer.bytes()} bytes so far` : `Data connection: ${data.describe()}`,
    'End of status',
  ];
}

export const listingCommands: CommandSpec[] = [
  {
    verb: 'LIST',
    opensDataConnection: true,
    syntax: 'LIST [<sp> pathname]',
    needsLogin: true,
    permission: 'list',
    async handle(context) {
      const { path, entries, truncated } = await gather(context, context.arg);
      const now = new Date();
      return sendListing(context, path, formatted(entries, (entry) => formatListLine(entry, now)), truncated);
    },
  },
  {
    verb: 'NLST',
    opensDataConnection: true,
    syntax: 'NLST [<sp> pathname]',
    needsLogin: true,
    permission: 'list',
    async handle(context) {
      const { path, entries, truncated, options } = await gather(context, context.arg);
      const now = new Date();
      const line = options.long ? (entry: FileStat) => formatListLine(entry, now) : (entry: FileStat) => entry.name;
      return sendListing(context, path, formatted(entries, line), truncated);
    },
  },
  {
    verb: 'MLSD',
    opensDataConnection: true,
    syntax: 'MLSD [<sp> pathname]',
    needsLogin: true,
    permission: 'list',
    async handle(context) {
      const { state, arg } = context;
      const path = arg.trim() === '' ? state.cwd : state.resolvePath(arg);
      const stat = await state.storage.stat(path);
      if (stat.type !== 'directory') return reply(Reply.ArgumentSyntaxError, `${quotePath(path)} is not a directory.`);
      const listing = await readDirectory(context, path);
      const can = permissionsOf(context);
      const facts = state.mlstFacts;
      const lines = formatted(listing.filter(listable), (entry) => formatMlsxLine(entry, entry.name, facts, can));
      return sendListing(context, path, lines, listing.truncated === true);
    },
  },
  {
    verb: 'MLST',
    syntax: 'MLST [<sp> pathname]',
    needsLogin: true,
    permission: 'list',
    feat: ({ state }) => [mlstFeatLine(state.mlstFacts)],
    async handle(context) {
      const { state, arg } = context;
      const path = arg.trim() === '' ? state.cwd : state.resolvePath(arg);
      const stat = await state.storage.stat(path);
      const line = formatMlsxLine(stat, path, state.mlstFacts, permissionsOf(context), stat.type === 'directory' && path === state.cwd ? 'cdir' : undefined);
      return reply(Reply.FileActionOk, [`Listing ${path}`, line, 'End']);
    },
  },
  {
    verb: 'STAT',
    syntax: 'STAT [<sp> pathname]',
    needsLogin: true,
    duringTransfer: true,
    async handle(context) {
      const { state, transfer, arg } = context;
      if (arg.trim() === '' || transfer) return reply(Reply.SystemStatus, statusLines(context));
      if (!state.user?.permissions.has('list')) throw new FtpError('FERRY_ERR_PERMISSION');
      const { path, entries, truncated } = await gather(context, arg);
      return reply(Reply.FileStatus, statListingLines(context, path, entries, truncated));
    },
  },
];
