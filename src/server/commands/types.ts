/**
 * A command is one table entry: its handler and the metadata the policy chain, FEAT
 * and HELP are built from. Adding a command touches one file and no switch statement.
 */
import type { Permission } from '../../auth/permissions.js';
import type { Session } from '../session.js';

export interface CommandContext {
  session: Session;
  verb: string;
  arg: string;
  /** REST offset given by the command just before this one (0 when none). */
  restOffset: number;
  /** RNFR path given by the command just before this one. */
  renameFrom: string | null;
}

export interface CommandSpec {
  verb: string;
  /** Other verbs with the same meaning (XPWD for PWD, ...). */
  aliases?: readonly string[];
  /** Shown by HELP VERB. */
  syntax: string;
  /** False for commands allowed before login (USER, PASS, FEAT, ...). */
  needsLogin: boolean;
  /** True when an empty argument is a 501. */
  needsArgument?: boolean;
  /** The user must have this permission (550 otherwise). */
  permission?: Permission;
  /** USER and PASS: refused without TLS when the user's TLS policy requires it. */
  sendsCredentials?: boolean;
  /** Opens a data connection: refused under PROT C when the user's TLS policy requires data TLS. */
  opensDataConnection?: boolean;
  /** Part of setting up a transfer (PASV, PORT, TYPE...): a pending REST offset survives it. */
  preparesTransfer?: boolean;
  /** May run while a transfer is in progress (ABOR, STAT); others wait their turn. */
  duringTransfer?: boolean;
  /** FEAT line(s) this command contributes. */
  feat?: (session: Session) => string[];
  handle(context: CommandContext): Promise<void> | void;
}
