/**
 * Command handlers and policies without sockets: `commandHarness` builds what the
 * session gives a handler (a real SessionState, ConnectionInfo and site, a recording
 * data-connection setup, an abort signal) and `run` executes one command line through
 * the site's policies and the handler, returning its Outcome.
 *
 * Users: alice (read-write) and bob (read-only), password "secret", both with `home`
 * as their root.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Authenticator, UserContext } from '../../src/auth/authenticator.js';
import { READ_ONLY, READ_WRITE } from '../../src/auth/permissions.js';
import { validateConfig } from '../../src/config/load.js';
import type { TlsMode } from '../../src/config/schema.js';
import type { HostPort } from '../../src/protocol/address.js';
import type { CommandContext, CommandReply, CommandSpec, DataSetup, Outcome } from '../../src/server/commands/types.js';
import { ConnectionInfo } from '../../src/server/connection-info.js';
import { Defender } from '../../src/server/defender.js';
import { UserAllowances } from '../../src/server/limits/user-allowances.js';
import { refusalReply, type Policy } from '../../src/server/policies.js';
import { SessionState } from '../../src/server/session-state.js';
import { createSite, type Site } from '../../src/server/site.js';
import { SiteDirectory } from '../../src/server/site-directory.js';
import type { StorageBackend } from '../../src/storage/backend.js';

const logger = pino({ level: 'silent' });

export class RecordingData implements DataSetup {
  readonly active: HostPort[] = [];
  passive = 0;
  resets = 0;
  async preparePassive(): Promise<number> {
    this.passive++;
    return 50_000 + this.passive;
  }
  prepareActive(target: HostPort): void {
    this.active.push(target);
  }
  describe(): string {
    return 'no data connection prepared';
  }
  reset(): void {
    this.resets++;
  }
}

export interface Harness {
  site: Site;
  state: SessionState;
  connection: ConnectionInfo;
  data: RecordingData;
  defender: Defender;
  /** Aborting it is what the session does when it closes. */
  lifetime: AbortController;
  /** Runs one command: the site's policies, then the handler, as the session does. */
  run(line: string): Promise<Outcome>;
}

export interface HarnessOptions {
  /** The users' root folder. */
  home: string;
  /** Config keys over the defaults (failed_login_delay 0). */
  config?: Record<string, unknown>;
  remote?: string;
  policies?: readonly Policy[];
  /** Storage instead of local storage of `home`. */
  openStorage?: (user: UserContext) => Promise<StorageBackend>;
  /** Users' own TLS policies, answered by the authenticator's tlsModeFor (never in its UserContext). */
  tlsModes?: Record<string, TlsMode>;
}

export function commandHarness(options: HarnessOptions): Harness {
  const users = new Map<string, UserContext>([
    ['alice', { name: 'alice', home: options.home, permissions: READ_WRITE, anonymous: false }],
    ['bob', { name: 'bob', home: options.home, permissions: READ_ONLY, anonymous: false }],
  ]);
  const authenticator: Authenticator = {
    isAnonymousName: (name) => name === 'anonymous',
    authenticate: async (name, password) => (password === 'secret' ? (users.get(name) ?? null) : null),
    tlsModeFor: (name) => options.tlsModes?.[name],
  };
  const config = validateConfig({ defender: { failed_login_delay: 0 }, ...options.config }, 'test');
  const site = createSite({ config, authenticator, logger, policies: options.policies, openStorage: options.openStorage });
  const state = new SessionState();
  const connection = new ConnectionInfo('198.51.100.1', 21, options.remote ?? '203.0.113.5', 40_000, false);
  const data = new RecordingData();
  const allowances = new UserAllowances();
  const defender = new Defender({ enabled: true, threshold: 10, observationMs: 60_000, banMs: 60_000, allow: [], logger });
  const lifetime = new AbortController();
  const run = async (line: string): Promise<Outcome> => {
    const space = line.indexOf(' ');
    const verb = space === -1 ? line : line.slice(0, space);
    const spec = site.commands.get(verb) as CommandSpec;
    assert.ok(spec, `no command ${verb}`);
    const carried = state.carryArguments({ duringTransfer: spec.duringTransfer === true, keepsRestart: spec.preparesTransfer === true });
    const context: CommandContext = {
      verb,
      arg: space === -1 ? '' : line.slice(space + 1),
      ...carried,
      state,
      connection,
      site,
      commands: site.commands,
      sites: new SiteDirectory(site),
      defender,
      allowances,
      logger,
      data,
      transfer: null,
      summary: { id: 'test-1', remoteAddress: connection.remoteAddress, user: state.user },
      signal: lifetime.signal,
    };
    for (const policy of site.policies) {
      const refusal = await policy(spec, context);
      if (refusal) return refusalReply(refusal);
    }
    return spec.handle(context);
  };
  return { site, state, connection, data, defender, lifetime, run };
}

export function asReply(outcome: Outcome): CommandReply {
  assert.ok('code' in outcome, `expected a plain reply, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Runs a command and returns its reply (throws on a transfer, close, ...). */
export async function replyTo(h: Harness, line: string): Promise<CommandReply> {
  return asReply(await h.run(line));
}

/** Logs in as alice (or bob); asserts the 230. */
export async function loggedIn(h: Harness, user = 'alice'): Promise<void> {
  asReply(await h.run(`USER ${user}`));
  assert.equal(asReply(await h.run('PASS secret')).code, 230);
}
