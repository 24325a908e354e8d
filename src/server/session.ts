/**
 * One control connection: reading commands, running them through the site's policies
 * and handlers, writing replies, TLS on the control connection, timeouts.
 *
 * Commands run one at a time in arrival order (pipelined commands queue), except those
 * marked `duringTransfer` (ABOR, STAT), which are answered at once while a transfer
 * runs -- the control socket is not paused for a transfer, so ABOR is always readable.
 * It is paused only while the client leaves more than limits.max_pending_output of
 * replies unread (see stallOutput).
 *
 * The protocol state lives in SessionState, the addresses in ConnectionInfo; handlers
 * get a narrow CommandContext and return an Outcome, which is applied here.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FtpError } from '../errors.js';
import { events, type CommandEvent, type SessionSummary, type TlsHandshakeFailedEvent } from '../observability/events.js';
import { CommandLineReader, parseCommand, redactArgument, type ParsedCommand } from '../protocol/commands.js';
import { looksLikeProxyHeader } from '../protocol/proxy-header.js';
import { formatReply, Reply } from '../protocol/replies.js';
import { TLS_MECHANISMS, tlsAvailable } from './commands/tls.js';
import type { CommandContext, CommandSpec, Outcome } from './commands/types.js';
import type { ConnectionInfo } from './connection-info.js';
import { DataChannel } from './data/data-channel.js';
import { warnPassiveSilence } from './data/diagnostics.js';
import type { PassivePortPool } from './data/port-pool.js';
import type { Defender } from './defender.js';
import type { UserAllowances } from './limits/user-allowances.js';
import { refusalReply } from './policies.js';
import { mayBindPrivilegedPorts } from './privileges.js';
import { SessionState } from './session-state.js';
import type { Site } from './site.js';
import type { SiteDirectory } from './site-directory.js';
import type { ProxyTrust } from './proxy-protocol.js';
import { handshake, wrapServerSocket } from './tls/secure-socket.js';
import type { TlsSessionScope } from './tls/session-scope.js';
import { runTransfer, type RunningTransfer, type TransferHost } from './transfer-runner.js';

/** Pipelined commands held while one runs; more than this is a flood (421). */
const MAX_QUEUED_COMMANDS = 64;

/** A line waiting its turn, split once when it arrived; its argument is decoded when it runs, in the charset in force then. */
type QueuedLine = { kind: 'too-long' } | { kind: 'line'; bytes: Buffer; command: ParsedCommand | null };

/** What sessions share across the whole server, whatever their site. */
export interface ServerServices {
  logger: Logger;
  /** Every site, for HOST and the TLS server name. */
  sites: SiteDirectory;
  /** Proxies trusted to send PROXY headers (on control and passive data connections). */
  proxyTrust: ProxyTrust;
  portPool: PassivePortPool;
  /** Scores failed logins per address and bans abusers. */
  defender: Defender;
  /** Per-user session, rate and quota limits. */
  allowances: UserAllowances;
  isShuttingDown(): boolean;
}

/**
 * Session ids are unique across processes and nodes (several Ferry nodes behind one load
 * balancer log into one place): a random prefix per process, then a counter.
 */
const PROCESS_ID = randomBytes(4).toString('hex');
let sessionCounter = 0;

export class Session implements TransferHost, SessionSummary {
  readonly id = `${PROCESS_ID}-${++sessionCounter}`;
  readonly logger: Logger;
  readonly state = new SessionState();
  transfer: RunningTransfer | null = null;
  /** The TLS sessions of this control connection, the only ones its data connections may resume. */
  tlsScope: TlsSessionScope | null = null;
  /** The stream commands and replies travel on: the TCP socket, or TLS over it. */
  private io: Socket;
  /** The site this session is on: the default until HOST or the TLS server name chooses another. */
  private current: Site;
  private channel: DataChannel;
  /** The site whose settings the data channel was made with. */
  private channelSite!: Site;

  private reader = new CommandLineReader();
  /** Set when AUTH is read; input is ignored until the TLS handshake (or the AUTH refusal). */
  private awaitingTls = false;
  private readonly queue: QueuedLine[] = [];
  private busy = false;
  /** The verb of the queued command running now (the web admin shows it). */
  private runningVerb: string | null = null;
  private closed = false;
  private closedEventSent = false;
  /** Set while the client leaves more than limits.max_pending_output unread: its commands wait. */
  private outputStalled: NodeJS.Timeout | null = null;
  /** Armed until the client logs in (timeouts.login); one timer per session. */
  private loginTimer: NodeJS.Timeout | null = null;
  /** Nothing has been read from the client yet (a PROXY header from an untrusted peer would be here). */
  private firstInput = true;
  /** Aborted when the session closes: long handlers (HASH) stop with it. */
  private readonly lifetime = new AbortController();

  constructor(
    readonly socket: Socket,
    readonly connection: ConnectionInfo,
    private readonly services: ServerServices,
  ) {
    this.logger = services.logger.child({ session: this.id, remote: connection.remoteLabel });
    this.current = services.sites.defaultSite;
    this.state.siteCharsetSet(this.current.nameCodec);
    this.channel = this.createDataChannel();
    socket.setNoDelay(true);
    socket.setTimeout(this.current.config.timeouts.idle * 1000, () => this.onIdle());
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'control connection error'));
    socket.on('close', () => this.onClose());
    this.io = socket;
    this.attachIo(socket);
    this.armLoginTimer();
  }

  get site(): Site {
    return this.current;
  }

  get data(): DataChannel {
    return this.channel;
  }

  /**
   * After a config reload, the next command runs with the new settings of this session's
   * site (by name; a site the reload removed keeps its old settings here). A prepared data
   * connection (PASV, then the reload, then RETR) is kept; the next one follows the new rules.
   */
  private followReload(): void {
    const fresh = this.services.sites.named(this.current.name);
    if (fresh && fresh !== this.current) {
      this.current = fresh;
      this.state.siteCharsetSet(fresh.nameCodec);
      this.socket.setTimeout(fresh.config.timeouts.idle * 1000);
      this.state.admission?.refresh(fresh);
    }
    if (this.channelSite !== this.current && !this.channel.isPrepared && !this.transfer) {
      this.channel.reset();
      this.channel = this.createDataChannel();
    }
  }

  /** The data-connection setup follows the site's passive, active and timeout settings. */
  private createDataChannel(): DataChannel {
    const { config } = this.current;
    this.channelSite = this.current;
    const { connection } = this;
    return new DataChannel({
      pool: this.services.portPool,
      localAddress: connection.localAddress,
      remoteAddress: connection.remoteAddress,
      passivePromiscuous: config.passive.promiscuous,
      connectFromPort20: config.active.connect_from_port_20 && mayBindPrivilegedPorts(),
      connectTimeoutMs: config.timeouts.data_connect * 1000,
      onRefusedPassivePeer: (address) =>
        this.logger.warn(
          {
            code: 'FERRY_ERR_DATA_THEFT',
            reason: `passive data connection from ${address}, not from the control connection's address ${connection.remoteAddress} (passive.promiscuous is off)`,
            address,
            controlAddress: connection.remoteAddress,
          },
          'refused a passive data connection from a foreign address',
        ),
      onPassiveSilence: (silence) => warnPassiveSilence(this.logger, config, silence, connection.localAddress),
      proxyTrust: this.services.proxyTrust,
    });
  }

  /**
   * Moves the session to another site (HOST, or the TLS server name), which is possible
   * only before login: nothing of the old site (a data connection, a user) is in use.
   */
  private selectSite(site: Site, by: 'HOST' | 'SNI' | 'REIN'): void {
    if (site === this.current) return;
    this.channel.reset();
    this.current = site;
    this.state.siteCharsetSet(site.nameCodec);
    this.channel = this.createDataChannel();
    this.socket.setTimeout(site.config.timeouts.idle * 1000);
    // The login window keeps running: switching sites (HOST, then REIN, ...) must not extend it.
    this.logger.info({ site: site.name, by }, 'site selected');
  }

  /** The TLS server name (SNI) picks the site and its certificate, unless a user is already logged in. */
  private readonly onServerName = (name: string): void => {
    const site = this.services.sites.forHost(name);
    if (this.state.user || site === this.current || !site.tls) return;
    this.tlsScope?.adopt(site.tls.createSecureContext());
    this.selectSite(site, 'SNI');
  };

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  get user(): SessionSummary['user'] {
    return this.state.user;
  }

  /** This session, as observability events describe it. */
  get summary(): SessionSummary {
    return this;
  }

  /** Running a command or a transfer (shutdown waits for these). */
  get isBusy(): boolean {
    return this.busy || this.transfer !== null;
  }

  /** The command being executed now (RETR while it transfers), or null between commands. */
  get currentCommand(): string | null {
    return this.runningVerb;
  }

  /** Ended by an administrator (the web admin): 421, and its transfer is aborted. */
  kick(by: string): void {
    this.logger.warn({ by }, 'session kicked by an administrator');
    this.close(Reply.ServiceNotAvailable, 'Disconnected by the administrator.');
  }

  setTransfer(transfer: RunningTransfer | null): void {
    this.transfer = transfer;
  }

  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);

  private attachIo(io: Socket): void {
    io.on('data', this.onDataBound);
  }

  /**
   * Greets the client. On the implicit FTPS listener the TLS handshake comes first, and
   * data connections default to PROT P.
   */
  start(): void {
    events.sessionOpened.publish({ session: this });
    this.logger.info({ implicitTls: this.connection.implicitTls }, 'session opened');
    if (!this.connection.implicitTls) {
      this.reply(Reply.ServiceReady, this.site.config.banner);
      this.socket.resume(); // paused while a trusted proxy's PROXY header was read
      return;
    }
    this.state.implicitTlsDefaults();
    void this.startTls().then((ok) => {
      if (ok) this.reply(Reply.ServiceReady, this.site.config.banner);
    });
  }

  /**
   * Switches the control connection to TLS (after "234" for AUTH TLS, or at once on the
   * implicit listener). Resolves false when the handshake fails; that costs one log line
   * and the connection, never the server.
   */
  private async startTls(): Promise<boolean> {
    const tls = this.site.tls;
    if (!tls) return false;
    // Nothing sent in clear behind AUTH may run protected: drop queued lines and any
    // partial line the reader holds.
    this.queue.length = 0;
    this.reader = new CommandLineReader();
    this.io.off('data', this.onDataBound);
    this.tlsScope = tls.createScope();
    const secure = wrapServerSocket(this.io, this.tlsScope, 'control', this.onServerName);
    this.io = secure;
    try {
      await handshake(secure, { handshakeTimeoutMs: this.site.config.tls.handshake_timeout * 1000 });
    } catch (error) {
      this.logger.info({ err: (error as Error).message }, 'TLS handshake failed on the control connection');
      events.tlsHandshakeFailed.publish({ connection: 'control', reason: (error as Error).message } satisfies TlsHandshakeFailedEvent);
      this.closed = true;
      this.socket.destroy();
      return false;
    }
    const protocol = secure.getProtocol() ?? 'TLS';
    this.connection.secured(protocol, typeof secure.servername === 'string' ? secure.servername : null);
    this.awaitingTls = false;
    this.tlsScope.controlSecured(protocol);
    this.logger.debug({ protocol, cipher: secure.getCipher().name }, 'control connection secured');
    this.attachIo(secure);
    return true;
  }

  reply(code: number, text: string | readonly string[]): void {
    if (this.closed || this.io.writableEnded) return;
    const formatted = formatReply(code, text);
    if (this.logger.isLevelEnabled('debug')) this.logger.debug(`<-- ${formatted.trimEnd()}`);
    this.io.write(this.encodeReply(code, formatted), this.onOutputFlushed);
    if (!this.outputStalled && this.pendingOutput > this.site.config.limits.max_pending_output) this.stallOutput();
  }

  /** A reply in the session's charset; one it cannot represent keeps its code and says so, rather than carry a mangled name. */
  private encodeReply(code: number, formatted: string): Buffer {
    const codec = this.state.nameCodec;
    const bytes = codec.encode(formatted);
    if (bytes) return bytes;
    this.logger.debug({ code, charset: codec.name }, 'reply text cannot be represented in the charset');
    return Buffer.from(formatReply(code, `(reply text cannot be represented in ${codec.name})`), 'latin1');
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
    const { limits, timeouts } = this.site.config;
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
    if (!this.outputStalled || this.closed || this.pendingOutput > this.site.config.limits.max_pending_output) return;
    clearTimeout(this.outputStalled);
    this.outputStalled = null;
    this.io.resume();
    void this.pump();
  };

  /** (Re)starts the time a client has to log in: at connection and after REIN. */
  private armLoginTimer(): void {
    this.clearLoginTimer();
    const { login } = this.site.config.timeouts;
    this.loginTimer = setTimeout(() => {
      this.loginTimer = null;
      if (this.state.user || this.closed) return;
      this.logger.info({ seconds: login }, 'login timeout');
      this.close(Reply.ServiceNotAvailable, 'Login timeout: closing control connection.');
    }, login * 1000);
  }

  private clearLoginTimer(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
  }

  /** Back to the state of a fresh connection (REIN): the site is the one the TLS server name chose, or the default. */
  private reinitialize(): void {
    // Only a logout starts a new login window: REIN before any login must not extend it.
    const wasLoggedIn = this.state.reinitialized();
    this.data.reset();
    const { serverName } = this.connection;
    this.selectSite(serverName ? this.services.sites.forHost(serverName) : this.services.sites.defaultSite, 'REIN');
    if (wasLoggedIn) this.armLoginTimer();
  }

  /** Sends an optional final reply, then closes the control connection. */
  close(code?: number, text?: string | readonly string[]): void {
    if (this.closed) return;
    if (code !== undefined && text !== undefined) this.reply(code, text);
    this.closed = true;
    this.transfer?.abort('the server closed the control connection');
    this.data.reset();
    this.io.end();
    // A peer that never reads its side must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onData(chunk: Buffer): void {
    // Plain-text bytes after AUTH TLS (before the handshake) are never commands: an
    // attacker could inject them (CVE-2011-0411 class).
    if (this.awaitingTls) return;
    if (this.firstInput) {
      this.firstInput = false;
      // Only a trusted proxy may say who the client is: anyone else's header is a forgery.
      if (this.services.proxyTrust.enabled && looksLikeProxyHeader(chunk)) {
        this.logger.warn({ code: 'FERRY_ERR_PROXY_HEADER', reason: 'a PROXY header from an address not in proxy_protocol.trusted' }, 'connection closed: untrusted PROXY header');
        this.closed = true;
        this.socket.destroy();
        return;
      }
    }
    for (const result of this.reader.feed(chunk)) {
      if (this.closed || this.awaitingTls) return;
      if (result.kind === 'too-long') {
        this.enqueue(result);
        continue;
      }
      const line: QueuedLine = { kind: 'line', bytes: result.bytes, command: parseCommand(result.bytes) };
      const spec = line.command && this.site.commands.get(line.command.verb);
      if (line.command?.verb === 'AUTH' && tlsAvailable(this.site) && !this.connection.secure && TLS_MECHANISMS.has(line.command.arg.toString('latin1').trim().toUpperCase())) this.awaitingTls = true;
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
        const line = this.queue.shift()!;
        this.followReload();
        this.runningVerb = line.kind === 'line' ? (line.command?.verb ?? null) : null;
        await this.execute(line);
        this.runningVerb = null;
        if (this.services.isShuttingDown() && !this.transfer) {
          this.close(Reply.ServiceNotAvailable, 'Server shutting down.');
        }
      }
    } finally {
      this.busy = false;
      this.runningVerb = null;
    }
  }

  private async execute(line: QueuedLine): Promise<void> {
    const code = await this.answer(line);
    // With nobody listening (metrics off) a command costs no event.
    if (!events.command.hasSubscribers) return;
    const verb = line.kind === 'line' ? (line.command?.verb ?? null) : null;
    const known = verb !== null && this.site.commands.get(verb) !== undefined;
    events.command.publish({ session: this, verb, known, code } satisfies CommandEvent);
  }

  /** Runs one command line; resolves with the code of its final reply. */
  private async answer(line: QueuedLine): Promise<number> {
    if (line.kind === 'too-long') {
      this.reply(Reply.SyntaxError, 'Command line too long.');
      return Reply.SyntaxError;
    }
    const parsed = line.command;
    if (!parsed) {
      this.logger.debug(`--> ${line.bytes.toString('utf8').slice(0, 80)}`);
      this.reply(Reply.SyntaxError, 'Syntax error, command unrecognized.');
      return Reply.SyntaxError;
    }
    const { verb } = parsed;
    const arg = this.state.nameCodec.decode(parsed.arg);
    if (this.logger.isLevelEnabled('debug')) this.logger.debug(`--> ${verb}${parsed.arg.length > 0 ? ' ' + redactArgument(verb, arg ?? `(not ${this.state.nameCodec.name})`) : ''}`);
    const spec = this.site.commands.get(verb);
    const carried = this.state.carryArguments({ duringTransfer: spec?.duringTransfer === true, keepsRestart: spec?.preparesTransfer === true });
    if (!spec) {
      this.reply(Reply.SyntaxError, `Unknown command "${verb}".`);
      return Reply.SyntaxError;
    }
    if (arg === null) {
      return this.replyError(new FtpError('FERRY_ERR_NAME_CHARSET', `File name cannot be represented in ${this.state.nameCodec.name}.`), { verb });
    }
    try {
      return await this.run(spec, this.contextFor(verb, arg, carried.restOffset, carried.renameFrom));
    } finally {
      // An AUTH that did not start TLS (refused, or failed): plain-text commands are read again.
      if (verb === 'AUTH') this.awaitingTls = false;
    }
  }

  private contextFor(verb: string, arg: string, restOffset: number, renameFrom: string | null): CommandContext {
    return {
      verb,
      arg,
      restOffset,
      renameFrom,
      state: this.state,
      connection: this.connection,
      site: this.site,
      commands: this.site.commands,
      sites: this.services.sites,
      defender: this.services.defender,
      allowances: this.services.allowances,
      logger: this.logger,
      data: this.data,
      transfer: this.transfer,
      summary: this,
      signal: this.lifetime.signal,
    };
  }

  /** The site's policies, then the handler, then what it asked for; resolves with the final reply's code. */
  private async run(spec: CommandSpec, context: CommandContext): Promise<number> {
    for (const policy of this.site.policies) {
      // Most policies answer at once: awaiting only a promise saves a microtask turn per policy and command.
      const answer = policy(spec, context);
      const refusal = answer instanceof Promise ? await answer : answer;
      if (refusal) {
        const { code, text } = refusalReply(refusal);
        this.logger.info({ code: refusal.error, reason: text, ...this.commandFields(context), ...refusal.fields }, 'command refused');
        this.reply(code, text);
        return code;
      }
    }
    if (spec.opensDataConnection) this.data.claim();
    try {
      const code = await this.apply(await spec.handle(context));
      // A login ends the time to log in: held on, its timer would only wake to find the user logged in.
      if (spec.sendsCredentials && this.state.user) this.clearLoginTimer();
      return code;
    } catch (error) {
      return this.replyError(error, this.commandFields(context));
    } finally {
      if (spec.opensDataConnection) this.data.unclaim();
    }
  }

  private async apply(outcome: Outcome): Promise<number> {
    if ('transfer' in outcome) return runTransfer(this, outcome.transfer);
    if ('close' in outcome) {
      this.close(outcome.close.code, outcome.close.text);
      return outcome.close.code;
    }
    if ('startTls' in outcome) {
      this.reply(outcome.startTls.code, outcome.startTls.text);
      await this.startTls();
      return outcome.startTls.code;
    }
    if ('reinitialize' in outcome) {
      this.reinitialize();
      this.reply(outcome.reinitialize.code, outcome.reinitialize.text);
      return outcome.reinitialize.code;
    }
    if ('selectSite' in outcome) {
      const site = this.services.sites.named(outcome.selectSite.site);
      if (site) this.selectSite(site, 'HOST');
      this.reply(outcome.selectSite.reply.code, outcome.selectSite.reply.text);
      return outcome.selectSite.reply.code;
    }
    this.reply(outcome.code, outcome.text);
    return outcome.code;
  }

  /** The command on a refusal's log line: its verb and argument (a path, mostly; never a password) and the user. */
  private commandFields({ verb, arg, state }: CommandContext): Record<string, unknown> {
    return { verb, ...(arg !== '' && { arg: redactArgument(verb, arg) }), ...(state.user && { user: state.user.name }) };
  }

  /** Turns a failure into its reply (returning its code), logged with its code; anything unexpected is logged and answered 451. */
  private replyError(error: unknown, command: Record<string, unknown>): number {
    if (error instanceof FtpError) {
      if (error.code === 'FERRY_ERR_STORAGE') this.logger.error({ err: error.cause ?? error, code: error.code, ...command }, 'storage error');
      else this.logger.info({ code: error.code, reason: error.message, ...command }, 'command refused');
      this.reply(error.reply, error.message);
      return error.reply;
    }
    this.logger.error({ err: error }, 'unexpected error');
    this.reply(Reply.LocalError, 'Requested action aborted: local error in processing.');
    return Reply.LocalError;
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
    this.transfer?.abort('the control connection closed');
    this.lifetime.abort();
    this.data.reset();
    this.state.releaseAdmission();
    this.clearLoginTimer();
    clearTimeout(this.outputStalled ?? undefined);
    events.sessionClosed.publish({ session: this });
    this.logger.info('session closed');
  }
}
