/**
 * The optional zero-copy paths: sendfile(2) for downloads and splice(2) for uploads,
 * through a small N-API addon (native/sendfile.c, built by `npm install` with node-gyp).
 * When the addon is missing, or FERRY_ZERO_COPY=0, transfers use the JavaScript stream
 * path; both are tested.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

interface SendfileAddon {
  sendfile(socketFd: number, fileFd: number, offset: number, count: number, idleTimeoutMs: number, control: Int32Array): Promise<number>;
  receive(socketFd: number, fileFd: number, offset: number, count: 0, idleTimeoutMs: number, control: Int32Array): Promise<number>;
}

let addon: SendfileAddon | null | undefined;

function loadAddon(): SendfileAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)('../../../../build/Release/ferry_sendfile.node') as SendfileAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
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

interface NativeOptions {
  idleTimeoutMs: number;
  signal: AbortSignal;
}

/**
 * Runs one native transfer on `socket`, or resolves null when this socket cannot take the
 * zero-copy path. The socket must not be read or written meanwhile (it is a fresh,
 * paused data connection).
 */
async function runNative(
  socket: Socket,
  options: NativeOptions,
  call: (native: SendfileAddon, socketFd: number, control: Int32Array) => Promise<number>,
): Promise<number | null> {
  const native = zeroCopyAvailable() ? loadAddon() : null;
  const socketFd = descriptorOf(socket);
  if (!native || socketFd === null) return null;
  // The worker thread checks this flag; the descriptors stay open until it has stopped.
  const control = new Int32Array(1);
  const cancel = () => (control[0] = 1);
  options.signal.addEventListener('abort', cancel, { once: true });
  try {
    return await call(native, socketFd, control);
  } finally {
    options.signal.removeEventListener('abort', cancel);
  }
}

/** Sends `count` bytes of the file `fileFd` from `offset` with sendfile(2). */
export function sendFileZeroCopy(socket: Socket, fileFd: number, offset: number, count: number, options: NativeOptions): Promise<number | null> {
  return runNative(socket, options, (native, socketFd, control) => native.sendfile(socketFd, fileFd, offset, count, options.idleTimeoutMs, control));
}

/** Writes what the client sends, until its end of file, into `fileFd` from offset 0 with splice(2). */
export function receiveFileZeroCopy(socket: Socket, fileFd: number, options: NativeOptions): Promise<number | null> {
  return runNative(socket, options, (native, socketFd, control) => native.receive(socketFd, fileFd, 0, 0, options.idleTimeoutMs, control));
}
