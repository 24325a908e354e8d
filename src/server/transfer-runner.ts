/**
 * The life of one transfer on the control connection: 150 and the data connection (in
 * active mode the connection first), move the bytes, then 226 -- or 425 (no connection),
 * 426 (connection lost or ABOR), 451/452 (storage). The session stays usable whatever happens.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { ERRORS, FtpError, fromSystemError } from '../errors.js';
import { events, type TransferEvent } from '../observability/events.js';
import { Reply } from '../protocol/replies.js';
import type { Logger } from 'pino';
import type { SessionSummary } from '../observability/events.js';
import type { DataChannel } from './data/data-channel.js';
import type { TransferOptions } from './data/transfer.js';
import type { SessionState } from './session-state.js';
import type { SiteSettings } from './site-settings.js';
import type { TlsSessionScope } from './tls/session-scope.js';
import { failureFields } from './data/diagnostics.js';
import { secureDataSocket } from './tls/secure-socket.js';

/** Errors that mean the data connection itself broke (426), not the storage (a reset and a timeout have their own codes). */
const CONNECTION_ERRORS = new Set(['ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export interface TransferResult {
  bytes: number;
  zeroCopy?: boolean;
}

export interface TransferJob {
  verb: string;
  path: string;
  /** Text of the 150 reply. */
  opening: string;
  /** The client sends the bytes (STOR, APPE, STOU): only a clean close completes it. */
  upload?: boolean;
  /** A directory listing (LIST, NLST, MLSD) rather than a file: transfer logs leave it out. */
  listing?: boolean;
  /** Text of the 226 reply. */
  completion?: string;
  /** Moves the bytes; resolves with how many (and whether sendfile carried them). */
  work(socket: Socket, options: TransferOptions): Promise<TransferResult>;
  /** After work: makes the received bytes land (an upload's rename into place); a failure fails the transfer, its bytes still counted. */
  commit?(): Promise<void>;
  /** Undoes a partial result (an upload that must not land). */
  onFailure?(): Promise<void>;
  /** Releases what the command opened (the file being read), however the transfer ended. */
  release?(): void;
}

/** A transfer in progress, as ABOR and STAT see it. */
export interface RunningTransfer {
  verb: string;
  path: string;
  bytes(): number;
  /** `why` in words, for the transfer's log line ("ABOR from the client"). */
  abort(why: string): void;
  /** Settles when the transfer's final reply has been sent. */
  done: Promise<void>;
}

/** What a transfer needs from its session (Session implements it). */
export interface TransferHost {
  readonly data: DataChannel;
  readonly state: SessionState;
  readonly site: SiteSettings;
  /** The control connection's TLS sessions, the only ones its data connections may resume. */
  readonly tlsScope: TlsSessionScope | null;
  readonly logger: Logger;
  readonly summary: SessionSummary;
  reply(code: number, text: string): void;
  /** The transfer now running (for ABOR and STAT), or null once it has ended. */
  setTransfer(transfer: RunningTransfer | null): void;
}

function failureReply(error: unknown): FtpError {
  if (error instanceof FtpError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  // EPIPE too: a write gets it only once the peer has sent RST (that is how sendfile reports a reset).
  if (code === 'ECONNRESET' || code === 'EPIPE') return new FtpError('FERRY_ERR_DATA_RESET', undefined, { cause: error });
  // The zero-copy threads' own idle timeout (timeouts.data_idle).
  if (code === 'ETIMEDOUT') return new FtpError('FERRY_ERR_DATA_IDLE', undefined, { cause: error });
  if (CONNECTION_ERRORS.has(code)) return new FtpError('FERRY_ERR_DATA_ABORTED', undefined, { cause: error });
  return fromSystemError(error);
}

/** How long a TLS peer gets to answer our close_notify before the socket is dropped. */
const TLS_CLOSE_WAIT_MS = 2000;

/**
 * Closes a finished data connection. Plain TCP is destroyed at once (its FIN is out);
 * TLS waits briefly for the peer's close_notify so clients such as GnuTLS-based lftp
 * see a proper TLS shutdown rather than a truncated stream.
 */
async function closeDataConnection(socket: Socket): Promise<void> {
  if (socket instanceof TLSSocket && !socket.destroyed) {
    // The bytes are flushed: an error now (the peer resets instead of its close_notify)
    // fails no transfer, so this never rejects -- not events.once, which rejects on 'error'.
    socket.on('error', () => undefined);
    socket.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => socket.once('close', resolve)), new Promise((resolve) => (timer = setTimeout(resolve, TLS_CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }
  socket.destroy();
}

/**
 * What a transfer moved before it failed, as work() never said: a native (zero-copy)
 * transfer's error carries its count; otherwise the data socket's counters, which on a
 * TLS socket count the payload, not the TCP bytes under it.
 */
function movedBeforeFailure(error: unknown, socket: Socket | null): TransferResult {
  const native = (error as { bytesSent?: unknown } | null)?.bytesSent;
  if (typeof native === 'number') return { bytes: native, zeroCopy: true };
  return { bytes: socketBytes(socket), zeroCopy: false };
}

function socketBytes(socket: Socket | null): number {
  return socket ? socket.bytesRead + socket.bytesWritten : 0;
}

/** Runs `job`; resolves with the code of its final reply (226, or the 4xx/5xx that ended it). */
export async function runTransfer(session: TransferHost, job: TransferJob): Promise<number> {
  if (!session.data.isPrepared) {
    // Checked after the file (a missing file is 550 either way) but before 150, which
    // would announce a connection that cannot exist.
    await job.onFailure?.();
    job.release?.();
    session.reply(Reply.CannotOpenData, session.data.unpreparedReason);
    return Reply.CannotOpenData;
  }
  const controller = new AbortController();
  const started = performance.now();
  let socket: Socket | null = null;
  /** The TCP connection under a TLS one (closed with it). */
  let tcp: Socket | null = null;
  /** Set once work() has said how many bytes it moved. */
  let moved: TransferResult | null = null;
  let outcome: TransferEvent['outcome'] = 'failed';
  const mode: TransferEvent['mode'] = session.state.transferType === 'A' ? 'ascii' : 'binary';
  let finalCode: number;
  let settle!: () => void;
  /** A zero-copy transfer's own count (its socket counts nothing), once the backend gives one. */
  let nativeBytes: (() => number) | undefined;
  session.setTransfer({
    verb: job.verb,
    path: job.path,
    bytes: () => nativeBytes?.() ?? socketBytes(socket),
    abort: (why) => controller.abort(why),
    done: new Promise<void>((resolve) => (settle = resolve)),
  });
  let failure: Record<string, unknown> = {};
  let failureReason: TransferEvent['failure'];
  // Active mode connects back before 150, as vsftpd does: a failed connect is a plain 425,
  // so a client that waits for the connection after a 150 (ftplib) is never left hanging.
  const connectFirst = session.data.connectsBack;
  try {
    if (connectFirst) tcp = await session.data.open(controller.signal);
    session.reply(Reply.FileStatusOk, job.opening);
    tcp ??= await session.data.open(controller.signal);
    socket = tcp;
    let endedCleanly: (() => boolean) | undefined;
    if (session.state.protection === 'P' && session.tlsScope) {
      const tlsConfig = session.site.config.tls;
      const secure = await secureDataSocket(tcp, {
        scope: session.tlsScope,
        handshakeTimeoutMs: tlsConfig.handshake_timeout * 1000,
        requireReuse: tlsConfig.session_reuse,
        upload: job.upload === true,
        signal: controller.signal,
      });
      socket = secure.socket;
      const closeNotify = secure.closeNotify;
      if (closeNotify) endedCleanly = () => closeNotify.endedCleanly(tlsConfig.strict_upload_eof);
    }
    moved = await job.work(socket, {
      ascii: mode === 'ascii',
      idleTimeoutMs: session.site.config.timeouts.data_idle * 1000,
      signal: controller.signal,
      endedCleanly,
      zeroCopyThreads: session.site.config.limits.zero_copy_threads,
      trackProgress: (bytesMoved) => (nativeBytes = bytesMoved),
      rateLimit: job.listing ? undefined : ((job.upload ? session.state.admission?.uploadRate : session.state.admission?.downloadRate) ?? undefined),
    });
    await job.commit?.();
    outcome = 'complete';
    // 226 means "data connection closed": close it first (its bytes are already flushed).
    await closeDataConnection(socket);
    finalCode = Reply.ClosingData;
    session.reply(finalCode, job.completion ?? 'Transfer complete.');
  } catch (error) {
    moved ??= movedBeforeFailure(error, socket);
    await job.onFailure?.().catch((cleanupError: unknown) => session.logger.error({ err: cleanupError }, 'cleanup after failed transfer'));
    if (controller.signal.aborted) {
      outcome = 'aborted';
      failure = { code: 'FERRY_ERR_ABORTED', reason: `transfer aborted: ${String(controller.signal.reason)}` };
      finalCode = ERRORS.FERRY_ERR_ABORTED.reply;
      session.reply(finalCode, ERRORS.FERRY_ERR_ABORTED.message);
    } else {
      const reply = failureReply(error);
      failure = failureFields(reply);
      failureReason = { code: reply.code, reason: reply.message };
      // The transfer line below carries the code and reason; a storage error's cause (stack, errno) goes here.
      if (reply.code === 'FERRY_ERR_STORAGE') session.logger.error({ err: error, verb: job.verb, path: job.path }, 'storage error during transfer');
      finalCode = reply.reply;
      session.reply(finalCode, reply.message);
    }
  } finally {
    socket?.destroy();
    tcp?.destroy();
    job.release?.();
    session.setTransfer(null);
    const bytes = moved?.bytes ?? 0;
    const zeroCopy = moved?.zeroCopy ?? false;
    // A monotonic clock for the duration (a wall-clock step must not make it negative); the wall clock only for endedAt.
    const durationMs = Math.round(performance.now() - started);
    // With nobody listening (no metrics, transfer log or hooks) a transfer builds no event.
    if (events.transfer.hasSubscribers) {
      const user = session.state.user;
      const event: TransferEvent = {
        session: session.summary,
        verb: job.verb,
        path: job.path,
        bytes,
        durationMs,
        outcome,
        zeroCopy,
        direction: job.upload ? 'upload' : 'download',
        kind: job.listing ? 'listing' : 'file',
        mode,
        remoteAddress: session.summary.remoteAddress,
        user: user && { name: user.name, anonymous: user.anonymous },
        site: session.site.name,
        endedAt: Date.now(),
        ...(failureReason && { failure: failureReason }),
      };
      events.transfer.publish(event);
    }
    // One line per transfer, whatever its end: a failed one is a warning with its code and reason
    // (its fields are gathered only when that level is logged).
    const level = outcome === 'failed' ? 'warn' : 'info';
    if (session.logger.isLevelEnabled(level)) session.logger[level]({ verb: job.verb, path: job.path, bytes, ms: durationMs, outcome, zeroCopy, ...failure }, 'transfer');
    settle();
  }
  return finalCode;
}
