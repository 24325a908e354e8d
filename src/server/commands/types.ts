/**
 * A command is one table entry: its handler and the metadata the policy chain, FEAT
 * and HELP are built from. Adding a command touches one file and no switch statement.
 *
 * A handler sees a narrow context (the session's protocol state, its connection, its
 * site, its data-connection setup) and returns what should happen: a reply, a transfer
 * to run, or a reply with a consequence for the connection. It never writes to a socket,
 * so handlers are tested without one.
 */
import type { Logger } from 'pino';
import type { Permission } from '../../auth/permissions.js';
import type { SessionSummary } from '../../observability/events.js';
import type { HostPort } from '../../protocol/address.js';
import type { ConnectionInfo } from '../connection-info.js';
import type { Defender } from '../defender.js';
import type { UserAllowances } from '../limits/user-allowances.js';
import type { SessionState } from '../session-state.js';
import type { SiteSettings } from '../site-settings.js';
import type { RunningTransfer, TransferJob } from '../transfer-runner.js';

/** What commands may do to the session's data connection (DataChannel implements it). */
export interface DataSetup {
  /** Opens a passive listener and returns its port; `advertised` is the address the 227 names. */
  preparePassive(advertised?: string): Promise<number>;
  prepareActive(target: HostPort): void;
  /** One line for STAT. */
  describe(): string;
  /** Drops whatever was prepared. */
  reset(): void;
}

export interface CommandContext {
  readonly verb: string;
  readonly arg: string;
  /** REST offset given by the command just before this one (0 when none). */
  readonly restOffset: number;
  /** RNFR path given by the command just before this one. */
  readonly renameFrom: string | null;
  readonly state: SessionState;
  readonly connection: ConnectionInfo;
  readonly site: SiteSettings;
  /** The site's commands, for HELP and FEAT. */
  readonly commands: CommandCatalog;
  /** Every site of the server, for HOST. */
  readonly sites: SiteLookup;
  /** Scores failed logins per address and bans abusers (shared by all sessions). */
  readonly defender: Defender;
  /** Per-user session, rate and quota limits (shared by all sessions). */
  readonly allowances: UserAllowances;
  readonly logger: Logger;
  readonly data: DataSetup;
  /** The transfer running on this session (for ABOR and STAT), or null. */
  readonly transfer: RunningTransfer | null;
  /** The session as observability events describe it. */
  readonly summary: SessionSummary;
  /** Aborted when the session closes: work that may take long (HASH of a big file) stops with it. */
  readonly signal: AbortSignal;
}

/** The server's sites by host name, for HOST (SiteDirectory implements it). */
export interface SiteLookup {
  /** The site a host name belongs to; the default site for a name no site lists. */
  forHost(name: string): SiteSettings;
}

/** What FEAT lines, HELP rows and a command's availability may depend on. */
export interface FeatureContext {
  readonly site: SiteSettings;
  readonly state: SessionState;
}

/** The command table as handlers see it (CommandTable implements it). */
export interface CommandCatalog {
  get(verb: string): CommandSpec | undefined;
  /** Every verb available here, for HELP. */
  helpRows(context: FeatureContext): string[];
  featLines(context: FeatureContext): string[];
}

export interface CommandReply {
  readonly code: number;
  readonly text: string | readonly string[];
}

/** What a handler asks the session to do. */
export type Outcome =
  | CommandReply
  /** Run a transfer over the data connection: it sends its own 150, 226 or 4xx. */
  | { readonly transfer: TransferJob }
  /** Reply, then close the control connection (QUIT, refused logins). */
  | { readonly close: CommandReply }
  /** Reply 234, then the TLS handshake on the control connection (AUTH TLS). */
  | { readonly startTls: CommandReply }
  /** Reply after resetting the session to a fresh connection's state (REIN). */
  | { readonly reinitialize: CommandReply }
  /** Switch the session to the named site (HOST), then reply. */
  | { readonly selectSite: { readonly site: string; readonly reply: CommandReply } };

export function reply(code: number, text: string | readonly string[]): CommandReply {
  return { code, text };
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
  /**
   * Whether this session can use the command (e.g. the user's storage can set times):
   * when false it is left out of FEAT and HELP and refused with 502. Default: always.
   */
  available?: (context: FeatureContext) => boolean;
  /** FEAT line(s) this command contributes (only asked when it is available). */
  feat?: (context: FeatureContext) => string[];
  handle(context: CommandContext): Outcome | Promise<Outcome>;
}

/** Whether a command can be used in this session (see CommandSpec.available). */
export function isAvailable(spec: CommandSpec, context: FeatureContext): boolean {
  return spec.available?.(context) ?? true;
}
