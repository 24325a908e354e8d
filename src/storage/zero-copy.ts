/**
 * The optional zero-copy paths of local files: sendfile(2) for downloads and splice(2) for
 * uploads, through a small N-API addon (native/sendfile.c, built by `npm install` with
 * node-gyp). LocalStorage offers them as its open files' `sendTo`/`receiveFrom`
 * (backend.ts), so no descriptor leaves the storage layer. When the addon is missing, or
 * FERRY_ZERO_COPY=0, downloads are copied through JavaScript (positioned reads into two
 * reused buffers, send-by-reads.ts) and uploads go through streams; both are tested.
 *
 * Each native transfer holds one of the addon's own threads (never libuv's shared pool)
 * until it ends, even while its peer is stalled. The addon reuses idle threads and lets
 * them exit after a while without work. `zeroCopyThreads` bounds how many transfers run
 * at once, and so how many threads exist; past it, transfers are copied through
 * JavaScript, which holds no thread while the socket is idle.
 *
 * A native transfer moves its bytes out of the socket's sight (its bytesRead/bytesWritten
 * stay 0), so it hands the caller a reader of the addon's running count through
 * `options.trackProgress`: the count is read only when someone asks (STAT, the web admin).
 */
import { loadNativeAddon } from '../util/native-addon.js';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SocketTransferOptions } from './backend.js';

/** One transfer on a native thread; the addon's cancel(id) wakes that thread at once. */
interface NativeTransfer {
  /** Bytes moved; rejects with an Error whose code is the errno name (ETIMEDOUT, ECANCELED...) and whose bytesSent is the count. */
  done: Promise<number>;
  id: number;
}

/** Each start returns null when no thread could be started. */
interface SendfileAddon {
  sendfile(socketFd: number, fileFd: number, offset: number, count: number, idleTimeoutMs: number): NativeTransfer | null;
  /** sendfile, then its thread closes fileFd (the descriptor is the addon's once this returns a transfer). Absent from builds before it. */
  sendfileAndClose?(socketFd: number, fileFd: number, offset: number, count: number, idleTimeoutMs: number): NativeTransfer | null;
  receive(socketFd: number, fileFd: number, offset: number, idleTimeoutMs: number): NativeTransfer | null;
  /** Does nothing once the transfer has settled. */
  cancel(id: number): void;
  /** Bytes moved so far; 0 once the transfer has settled (`done` has the final count). */
  progress(id: number): number;
  /** How long an idle thread waits for another transfer before it exits (30 s unless set). */
  setThreadIdleTimeout(ms: number): void;
}

function loadAddon(): SendfileAddon | null {
  return loadNativeAddon<SendfileAddon>('ferry_sendfile');
}

/** Whether downloads can use sendfile(2) here (the addon is built and not switched off). */
export function zeroCopyAvailable(): boolean {
  return process.env.FERRY_ZERO_COPY !== '0' && loadAddon() !== null;
}

/** The socket's descriptor, or null when it has none we may use (TLS, a wrapped stream). */
function descriptorOf(socket: Socket): number | null {
  if (socket instanceof TLSSocket) return null;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** Native transfers running now, each holding one of the addon's threads. */
let runningThreads = 0;

/**
 * Runs one native transfer on `socket`, or resolves null when this socket cannot take the
 * zero-copy path or every zero-copy thread is busy. The socket must not be read or
 * written meanwhile (it is a fresh, paused data connection).
 */
async function runNative(
  socket: Socket,
  options: SocketTransferOptions,
  start: (native: SendfileAddon, socketFd: number) => NativeTransfer | null,
): Promise<number | null> {
  const native = zeroCopyAvailable() ? loadAddon() : null;
  const socketFd = descriptorOf(socket);
  if (!native || socketFd === null || runningThreads >= options.zeroCopyThreads) return null;
  const transfer = start(native, socketFd);
  if (!transfer) return null;
  runningThreads++;
  // The addon forgets the transfer once it settles: from then on the reader gives the final count.
  let final: number | undefined;
  transfer.done.then((bytes) => (final = bytes), (error: { bytesSent?: number }) => (final = error.bytesSent));
  options.trackProgress?.(() => final ?? native.progress(transfer.id));
  // Cancelling only wakes the thread; the descriptors stay open until `done` settles.
  const cancel = () => native.cancel(transfer.id);
  options.signal.addEventListener('abort', cancel, { once: true });
  if (options.signal.aborted) cancel();
  try {
    return await transfer.done;
  } finally {
    runningThreads--;
    options.signal.removeEventListener('abort', cancel);
  }
}

/** Tests shorten how long the addon keeps an idle thread; does nothing without the addon. */
export function setZeroCopyThreadIdleTimeout(ms: number): void {
  loadAddon()?.setThreadIdleTimeout(ms);
}

/**
 * Sends `count` bytes of the file `fileFd` from `offset` with sendfile(2). With
 * `onFileTaken`, the addon's thread closes the file when the send ends (saving a download
 * its close through libuv's pool), and `onFileTaken` runs as soon as the descriptor is
 * no longer the caller's to close; without the call, it still is.
 */
export function sendFileZeroCopy(socket: Socket, fileFd: number, offset: number, count: number, options: SocketTransferOptions, onFileTaken?: () => void): Promise<number | null> {
  return runNative(socket, options, (native, socketFd) => {
    if (!onFileTaken || !native.sendfileAndClose) return native.sendfile(socketFd, fileFd, offset, count, options.idleTimeoutMs);
    const transfer = native.sendfileAndClose(socketFd, fileFd, offset, count, options.idleTimeoutMs);
    if (transfer) onFileTaken();
    return transfer;
  });
}

/** Writes what the client sends, until its end of file, into `fileFd` from offset 0 with splice(2). */
export function receiveFileZeroCopy(socket: Socket, fileFd: number, options: SocketTransferOptions): Promise<number | null> {
  return runNative(socket, options, (native, socketFd) => native.receive(socketFd, fileFd, 0, options.idleTimeoutMs));
}
