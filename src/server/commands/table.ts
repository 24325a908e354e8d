/**
 * The single command table: verb (and alias) -> spec. FEAT and HELP are generated from
 * it, so they can never list something the server does not do.
 */
import { authCommands } from './auth.js';
import { dataChannelCommands } from './data-channel.js';
import { digestCommands } from './digest.js';
import { fileCommands } from './files.js';
import { hostCommands } from './host.js';
import { infoCommands } from './info.js';
import { listingCommands } from './listing.js';
import { navigationCommands } from './navigation.js';
import { parameterCommands } from './parameters.js';
import { siteCommands } from './site.js';
import { timeCommands } from './times.js';
import { tlsCommands } from './tls.js';
import { transferCommands } from './transfer.js';
import { isAvailable, type CommandCatalog, type CommandSpec, type FeatureContext } from './types.js';

/** Extensions that are properties of the whole server rather than of one command. */
const SERVER_FEATURES = ['TVFS'];

export class CommandTable implements CommandCatalog {
  private readonly byVerb = new Map<string, CommandSpec>();

  constructor(private readonly specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      for (const verb of [spec.verb, ...(spec.aliases ?? [])]) {
        if (this.byVerb.has(verb)) throw new Error(`duplicate command ${verb}`);
        this.byVerb.set(verb, spec);
      }
    }
  }

  get(verb: string): CommandSpec | undefined {
    return this.byVerb.get(verb);
  }

  /** Every verb and alias, available or not (what the server recognizes). */
  verbs(): string[] {
    return [...this.byVerb.keys()].sort();
  }

  /** Every verb available in this session, eight to a line, for HELP. */
  helpRows(context: FeatureContext): string[] {
    const verbs = this.verbs().filter((verb) => isAvailable(this.byVerb.get(verb)!, context));
    const rows: string[] = [];
    for (let i = 0; i < verbs.length; i += 8) rows.push(verbs.slice(i, i + 8).map((v) => v.padEnd(5)).join(' ').trimEnd());
    return rows;
  }

  featLines(context: FeatureContext): string[] {
    const lines = this.specs.flatMap((spec) => (isAvailable(spec, context) ? (spec.feat?.(context) ?? []) : []));
    return [...lines, ...SERVER_FEATURES].sort();
  }
}

export function defaultCommandTable(): CommandTable {
  return new CommandTable([
    ...authCommands,
    ...hostCommands,
    ...navigationCommands,
    ...fileCommands,
    ...transferCommands,
    ...listingCommands,
    ...dataChannelCommands,
    ...parameterCommands,
    ...infoCommands,
    ...siteCommands,
    ...digestCommands,
    ...timeCommands,
    ...tlsCommands,
  ]);
}
