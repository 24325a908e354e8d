/**
 * What the web admin reads from the server and acts on. Session and Defender satisfy
 * these shapes, so the admin code never reaches into the server's internals.
 */

/** A live control connection. */
export interface AdminSession {
  readonly id: string;
  readonly remoteAddress: string;
  readonly user: { readonly name: string } | null;
  readonly connection: { readonly secure: boolean };
  /** The command being executed, or null between commands. */
  readonly currentCommand: string | null;
  readonly transfer: { readonly verb: string; readonly path: string; bytes(): number } | null;
  /** 421 and the end of the connection (its transfer aborted); `by` names the administrator in the log. */
  kick(by: string): void;
}

export interface BanEntry {
  address: string;
  /** End of the ban, ms since the epoch. */
  until: number;
}

export interface AdminSources {
  sessions(): Iterable<AdminSession>;
  bans(): BanEntry[];
  /** False when `address` was not banned. */
  unban(address: string, by: string): boolean;
}
