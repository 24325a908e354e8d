/**
 * Setting file times: MFMT and MFCT (draft-somers-ftp-mfxx), which lftp, rclone and
 * FileZilla use to keep an upload's modification time. Times are UTC time-vals.
 */
import { parseMfmt } from '../../protocol/extension-args.js';
import { formatTimeVal } from '../../protocol/listing.js';
import { Reply } from '../../protocol/replies.js';
import { supports, type OptionalOperation } from '../../storage/backend.js';
import { reply, type CommandSpec, type FeatureContext } from './types.js';

/** Whether the logged-in user's storage can do `operation`; before login, what the site says its storage can. */
export function storageSupports({ state, site }: FeatureContext, operation: OptionalOperation): boolean {
  const storage = state.storageIfLoggedIn;
  return storage ? supports(storage, operation) : (site.storageCapabilities?.[operation] ?? false);
}

export const timeCommands: CommandSpec[] = [
  {
    verb: 'MFMT',
    syntax: 'MFMT <sp> YYYYMMDDHHMMSS[.sss] <sp> pathname (UTC)',
    needsLogin: true,
    needsArgument: true,
    permission: 'write',
    available: (context) => storageSupports(context, 'setModifiedTime'),
    feat: () => ['MFMT'],
    async handle({ state, arg }) {
      const parsed = parseMfmt(arg);
      if (!parsed) return reply(Reply.ArgumentSyntaxError, 'Syntax: MFMT YYYYMMDDHHMMSS[.sss] pathname (a real UTC time).');
      await state.storage.setModifiedTime!(state.resolvePath(parsed.path), parsed.time);
      return reply(Reply.FileStatus, `Modify=${formatTimeVal(parsed.time)}; ${parsed.path}`);
    },
  },
  {
    // No storage here can set a creation time (Linux file systems keep birth times
    // read-only), so MFCT is never offered in FEAT or HELP and always answers 502.
    verb: 'MFCT',
    syntax: 'MFCT <sp> YYYYMMDDHHMMSS <sp> pathname',
    needsLogin: true,
    needsArgument: true,
    permission: 'write',
    available: () => false,
    handle: () => reply(Reply.NotImplemented, 'Creation times cannot be set here.'),
  },
];
