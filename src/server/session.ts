/**
 * One control connection: protocol state, command dispatch, replies, timeouts.
 *
 * Commands run one at a time in arrival order (pipelined commands queue), except those
 * marked `duringTransfer` (ABOR, STAT), which are answered at once while a transfer
 * runs -- the control socket is not paused for a transfer, so ABOR is always readable.
 * It is paused only while the client leaves more than limits.max_pending_output of
 * replies unread (see stallOutput).
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Authenticator, UserContext } from '../auth/authenticator.js';
import type { FerryConfig, TlsMode } from '../config/schema.js';
import { FtpError } from '../errors.js';
import { CommandLineReader, parseCommand, redactArgument, type ParsedCommand } from '../protocol/commands.js';
import { MLST_FACTS, type MlstFact } from '../protocol/listing.js';
import { resolveVirtualPath } from '../protocol/paths.js';
import { formatReply, Reply } from '../protocol/replies.js';
import type { StorageBackend } from '../storage/backend.js';
import type { CommandTable } from './commands/table.js';
import type { CommandContext } from './commands/types.js';
import { DataChannel } from './data/data-channel.js';
import { warnPassiveSilence } from './data/diagnostics.js';
import type { PassivePortPool } from './data/port-pool.js';
import type { Defender } from './defender.js';
import { events } from '../observability/events.js';
import { DEFAULT_POLICIES } from './policies.js';
import { handshake, wrapServerSocket } from './tls/secure-socket.js';
import type { TlsSessionScope } from './tls/session-scope.js';
import type { TlsProvider } from './tls/tls-provider.js';

/** AUTH arguments that start a TLS handshake. */
export const TLS_MECHANISMS: ReadonlySet<string> = new Set(['TLS', 'TLS-C', 'SSL']);

/** Pipelined commands held while one runs; more than this is a flood (421). */
const MAX_QUEUED_COMMANDS = 64;

/** A line waiting its turn, parsed once when it arrived. */
type QueuedLine = { kind: 'too-long' } | { kind: 'line'; text: string; command: ParsedCommand | null };

/** What a session needs from its server. */
export interface ServerContext {
  config: FerryConfig;
  authenticator: Authenticator;
  portPool: PassivePortPool;
  commands: CommandTable;
  logger: Logger;
  openStorage(user: UserContext): Promise<StorageBackend>;
  /** Certificate and contexts when TLS is configured, else null. */
  tls: TlsProvider | null;
  tlsMode: TlsMode;
  /** Address for 227 replies when a masquerade address is configured (resolved now). */
  masqueradeAddress(): Promise<string | null>;
  isShuttingDown(): boolean;
  /** Scores failed logins per address and bans abusers (shared by all sessions). */
  defender: Defender;
}

export interface RunningTransfer {
  verb: string;
  path: string;
  bytes(): number;
  abort(): void;
  /** Settles when the transfer's final reply has been sent. */
  done: Promise<void>;
}

let nextSessionId = 1;

export class Session {
  readonly id = nextSessionId++;
  readonly logger: Logger;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly data: DataChannel;

  user: UserContext | null = null;
  storage: StorageBackend | null = null;
  pendingUser: string | null = null;
  cwd = '/';
  transferType: 'A' | 'I' = 'A';
  restOffset = 0;
  renameFrom: string | null = null;
  epsvAll = false;
  mlstFacts: Set<MlstFact> = new Set(MLST_FACTS);
  loginFailures = 0;
  transfer: RunningTransfer | null = null;
  /** The control connection is TLS-protected (AUTH TLS, or the implicit listener). */
  secure = false;
  pbszDone = false;
  /** PROT level for data connections: C (clear) or P (private, TLS). */
  protection: 'C' | 'P' = 'C';
  /** The TLS sessions of this control connection, the only ones its data connections may resume. */
  tlsScope: TlsSessionScope | null = null;
  /** The stream commands and replies travel on: the TCP socket, or TLS over it. */
  private io: Socket;

  private reader = new CommandLineReader();
  /** Set when AUTH is read; input is ignored until the TLS handshake (or the AUTH refusal). */
  private awaitingTls = false;
  private readonly queue: QueuedLine[] = [];
  private busy = false;
  private closed = false;
  private closedEventSent = false;
  /** Set while the client leaves more than limits.max_pending_output unread: its commands wait. */
  private outputStalled: NodeJS.Timeout | null = null;
  /** Armed until the client logs in (timeouts.login); one timer per session. */
  private loginTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: Socket,
    readonly server: ServerContext,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.localAddress = socket.localAddress ?? '';
    this.logger = server.logger.child({ session: this.id, remote: `${this.remoteAddress}:${socket.remotePort}` });
    const { config } = server;
    this.data = new DataChannel({
      pool: server.portPool,
      localAddress: this.localAddress,
      remoteAddress: this.remoteAddress,
      passivePromiscuous: config.passive.promiscuous,
      connectFromPort20: config.active.connect_from_port_20 && process.getuid?.() === 0,
      connectTimeoutMs: config.timeouts.data_connect * 1000,
      onRefusedPassivePeer: (address) =>
        this.logger.warn({ address }, 'refused a passive data connection from a foreign address'),
      onPassiveSilence: (silence) => warnPassiveSilence(this.logger, config, silence, this.localAddress),
    });
    socket.setNoDelay(true);
    socket.setTimeout(config.timeouts.idle * 1000, () => this.onIdle());
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'control connection error'));
    socket.on('close', () => this.onClose());
    this.io = socket;
    this.attachIo(socket);
    this.armLoginTimer();
  }

  /** Running a command or a transfer (shutdown waits for these). */
  get isBusy(): boolean {
    return this.busy || this.transfer !== null;
  }

  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);

  private attachIo(io: Socket): void {
    io.on('data', this.onDataBound);
  }

  /**
   * Greets the client. On the implicit FTPS listener the TLS handshake comes first, and
   * data connections default to PROT P.
   */
  start(options: { implicitTls?: boolean } = {}): void {
    events.sessionOpened.publish({ session: this });
    this.logger.info({ implicitTls: options.implicitTls ?? false }, 'session opened');
    if (!options.implicitTls) {
      this.reply(Reply.ServiceReady, this.server.config.banner);
      return;
    }
    this.protection = 'P';
    this.pbszDone = true;
    void this.startTls().then((ok) => {
      if (ok) this.reply(Reply.ServiceReady, this.server.config.banner);
    });
  }

  /**
   * Switches the control connection to TLS (after "234" for AUTH TLS, or at once on the
   * implicit listener). Resolves false when the handshake fails; that costs one log line
   * and the connection, never the server.
   */
  async startTls(): Promise<boolean> {
    const tls = this.server.tls;
    if (!tls) return false;
    // Nothing sent in clear behind AUTH may run protected: drop queued lines and any
    // partial line the reader holds.
    this.queue.length = 0;
    this.reader = new CommandLineReader();
    this.io.off('data', this.onDataBound);
    this.tlsScope = tls.createScope();
    const secure = wrapServerSocket(this.io, this.tlsScope, 'control');
    this.io = secure;
    try {
      await handshake(secure, { handshakeTimeoutMs: this.server.config.tls.handshake_timeout * 1000 });
    } catch (error) {
      this.logger.info({ err: (error as Error).message }, 'TLS handshake failed on the control connection');
      this.closed = true;
      this.socket.destroy();
      return false;
    }
    this.secure = true;
    this.awaitingTls = false;
    this.tlsScope.controlSecured(secure.getProtocol());
    this.logger.debug({ protocol: secure.getProtocol(), cipher: secure.getCipher().name }, 'control connection secured');
    this.attachIo(secure);
    return true;
  }

  /** AUTH was refused: plain-text commands are read again. */
  cancelTlsUpgrade(): void {
    this.awaitingTls = false;
  }

  /** The TLS policy for a user name: per-user override, else the server's; anonymous users are exempt. */
  tlsModeFor(name: string): TlsMode {
    const { authenticator, tlsMode } = this.server;
    if (authenticator.isAnonymousName(name)) return tlsMode === 'off' ? 'off' : 'optional';
    return authenticator.tlsModeFor?.(name) ?? tlsMode;
  }

  reply(code: number, text: string | readonly string[]): void {
    if (this.closed || this.io.writableEnded) return;
    const formatted = formatReply(code, text);
    this.logger.debug(`<-- ${formatted.trimEnd()}`);
    this.io.write(formatted, this.onOutputFlushed);
    if (!this.outputStalled && this.pendingOutput > this.server.config.limits.max_pending_output) this.stallOutput();
  }

  /** Reply bytes written but not yet taken by the client (they live in this process's memory). */
  get pendingOutput(): number {
    return this.io.writableLength;
  }

  /**
   * The client is not reading its replies: stop reading its socket (TCP backpressure then
   * holds its further commands on its side) and running queued commands, so what this
   * session holds stays near the cap (plus at most one reply). If it has not read the
   * output down below the cap within timeouts.idle, the connection is dropped.
   */
  private stallOutput(): void {
    const { limits, timeouts } = this.server.config;
    this.logger.warn({ pending: this.pendingOutput, cap: limits.max_pending_output }, 'client leaves its replies unread; its commands wait');
    this.io.pause();
    this.outputStalled = setTimeout(() => {
      this.logger.warn({ pending: this.pendingOutput, cap: limits.max_pending_output }, 'client did not read its replies in time; closing');
      this.closed = true;
      this.socket.destroy();
    }, timeouts.idle * 1000);
  }

  /** A reply went out: once the backlog is under the cap again, commands are read and run again. */
  private readonly onOutputFlushed = (): void => {
    if (!this.outputStalled || this.closed || this.pendingOutput > this.server.config.limits.max_pending_output) return;
    clearTimeout(this.outputStalled);
    this.outputStalled = null;
    this.io.resume();
    void this.pump();
  };

  /** (Re)starts the time a client has to log in: at connection and after REIN. */
  private armLoginTimer(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = setTimeout(() => {
      this.loginTimer = null;
      if (this.user || this.closed) return;
      this.logger.info({ seconds: this.server.config.timeouts.login }, 'login timeout');
      this.close(Reply.ServiceNotAvailable, 'Login timeout: closing control connection.');
    }, this.server.config.timeouts.login * 1000);
  }

  /** Resolves a client path against the current directory (553 for an impossible name). */
  resolvePath(arg: string): string {
    const path = resolveVirtualPath(this.cwd, arg);
    if (path === null) throw new FtpError('FERRY_ERR_BAD_NAME');
    return path;
  }

  /** The logged-in user's storage (the login policy guarantees there is one). */
  get store(): StorageBackend {
    if (!this.storage) throw new FtpError('FERRY_ERR_STORAGE', 'Not logged in.');
    return this.storage;
  }

  /** Back to the state of a fresh connection (REIN). */
  resetLogin(): void {
    // Only a logout starts a new login window: REIN before any login must not extend it.
    const wasLoggedIn = this.user !== null;
    this.user = null;
    this.storage = null;
    this.pendingUser = null;
    this.cwd = '/';
    this.transferType = 'A';
    this.epsvAll = false;
    this.mlstFacts = new Set(MLST_FACTS);
    this.data.reset();
    if (wasLoggedIn) this.armLoginTimer();
  }

  /** Sends an optional final reply, then closes the control connection. */
  close(code?: number, text?: string): void {
    if (this.closed) return;
    if (code !== undefined && text !== undefined) this.reply(code, text);
    this.closed = true;
    this.transfer?.abort();
    this.data.reset();
    this.io.end();
    // A peer that never reads its side must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onData(chunk: Buffer): void {
    // Plain-text bytes after AUTH TLS (before the handshake) are never commands: an
    // attacker could inject them (CVE-2011-0411 class).
    if (this.awaitingTls) return;
    for (const result of this.reader.feed(chunk)) {
      if (this.closed || this.awaitingTls) return;
      if (result.kind === 'too-long') {
        this.enqueue(result);
        continue;
      }
      const line: QueuedLine = { kind: 'line', text: result.text, command: parseCommand(result.text) };
      const spec = line.command && this.server.commands.get(line.command.verb);
      if (line.command?.verb === 'AUTH' && this.server.tls && !this.secure && TLS_MECHANISMS.has(line.command.arg.trim().toUpperCase())) this.awaitingTls = true;
      if (this.transfer && spec?.duringTransfer) {
        void this.execute(line);
        continue;
      }
      this.enqueue(line);
    }
  }

  private enqueue(line: QueuedLine): void {
    if (this.queue.length >= MAX_QUEUED_COMMANDS) {
      this.logger.warn('too many pipelined commands; closing');
      this.close(Reply.ServiceNotAvailable, 'Too many commands; closing control connection.');
      return;
    }
    this.queue.push(line);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.outputStalled) {
        await this.execute(this.queue.shift()!);
        if (this.server.isShuttingDown() && !this.transfer) {
          this.close(Reply.ServiceNotAvailable, 'Server shutting down.');
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async execute(line: QueuedLine): Promise<void> {
    if (line.kind === 'too-long') {
      this.reply(Reply.SyntaxError, 'Command line too long.');
      return;
    }
    const parsed = line.command;
    if (!parsed) {
      this.logger.debug(`--> ${line.text.slice(0, 80)}`);
      this.reply(Reply.SyntaxError, 'Syntax error, command unrecognized.');
      return;
    }
    const { verb, arg } = parsed;
    this.logger.debug(`--> ${verb}${arg ? ' ' + redactArgument(verb, arg) : ''}`);
    const spec = this.server.commands.get(verb);
    // REST and RNFR only apply to the command right after them (REST also survives the
    // data-connection setup that clients send between it and RETR/STOR).
    const context: CommandContext = { session: this, verb, arg, restOffset: this.restOffset, renameFrom: this.renameFrom };
    if (!spec?.duringTransfer) {
      if (!spec?.preparesTransfer) this.restOffset = 0;
      this.renameFrom = null;
    }
    if (!spec) {
      this.reply(Reply.SyntaxError, `Unknown command "${verb}".`);
      return;
    }
    for (const policy of DEFAULT_POLICIES) {
      const refusal = policy(spec, context);
      if (refusal) {
        this.reply(refusal.code, refusal.text);
        return;
      }
    }
    if (spec.opensDataConnection) this.data.claim();
    try {
      await spec.handle(context);
    } catch (error) {
      this.replyError(error);
    } finally {
      if (spec.opensDataConnection) this.data.unclaim();
    }
  }

  /** Turns a failure into its reply; anything unexpected is logged and answered 451. */
  replyError(error: unknown): void {
    if (error instanceof FtpError) {
      if (error.code === 'FERRY_ERR_STORAGE') this.logger.error({ err: error.cause ?? error }, 'storage error');
      this.reply(error.reply, error.message);
      return;
    }
    this.logger.error({ err: error }, 'unexpected error');
    this.reply(Reply.LocalError, 'Requested action aborted: local error in processing.');
  }

  private onIdle(): void {
    if (this.transfer) return; // a long transfer keeps the control connection quiet
    this.logger.info('idle timeout');
    this.close(Reply.ServiceNotAvailable, 'Timeout: closing control connection.');
  }

  private onClose(): void {
    if (this.closedEventSent) return;
    this.closedEventSent = true;
    this.closed = true;
    this.transfer?.abort();
    this.data.reset();
    clearTimeout(this.loginTimer ?? undefined);
    clearTimeout(this.outputStalled ?? undefined);
    events.sessionClosed.publish({ session: this });
    this.logger.info('session closed');
  }
}
