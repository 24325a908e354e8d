/**
 * Moving bytes over an open data connection, with backpressure end to end
 * (stream/promises pipeline), optional TYPE A conversion, an idle timeout and
 * cancellation (ABOR) through an AbortSignal.
 */
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FtpError } from '../../errors.js';
import type { Download, SocketTransferOptions, Upload } from '../../storage/backend.js';
import { throttleStream, type TokenBucket } from '../../util/token-bucket.js';
import { CrlfToLf, LfToCrlf } from './ascii.js';
import { sendByReads } from './send-by-reads.js';
import { wasReadByJavaScript } from './read-by-javascript.js';
import { resetByPeer } from './peer-reset.js';

/** What an open file needs to move itself (idle timeout, ABOR, zero-copy threads), and what only the stream path needs. */
export interface TransferOptions extends SocketTransferOptions {
  ascii: boolean;
  /**
   * Uploads: judges, when the data connection emits 'end', whether the client closed it
   * cleanly (TLS data connections pass the close_notify policy here). Without it: a TCP
   * FIN, not a reset.
   */
  endedCleanly?: () => boolean;
  /**
   * The user's upload or download rate (shared by all their transfers), when limited.
   * A limited transfer takes the stream path: the limit has to see each chunk, which
   * sendfile(2) and splice(2) move out of sight.
   */
  rateLimit?: TokenBucket;
}

/** The stages between the socket and the file: the rate limit (nearest the socket, so it paces the network), then TYPE A conversion. */
function stagesFor(options: TransferOptions, convert: () => NodeJS.ReadWriteStream): NodeJS.ReadWriteStream[] {
  return [...(options.rateLimit ? [throttleStream(options.rateLimit)] : []), ...(options.ascii ? [convert()] : [])];
}

/** Makes a stalled data connection fail instead of hanging the session forever. */
function armIdleTimeout(socket: Socket, ms: number): void {
  socket.setTimeout(ms, () => socket.destroy(new FtpError('FERRY_ERR_DATA_IDLE')));
}

/** Server to client (RETR, listings). Resolves with the bytes read from the source. */
export async function sendData(readable: Readable, socket: Socket, options: TransferOptions): Promise<number> {
  armIdleTimeout(socket, options.idleTimeoutMs);
  let bytes = 0;
  readable.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const stages = stagesFor(options, () => new LfToCrlf()).reverse();
  await pipeline([readable, ...stages, socket], { signal: options.signal });
  return bytes;
}

/**
 * Server to client for a file: the open file sends itself when it can (the local backend's
 * sendfile(2) over plain TCP), else the stream path; TYPE A always streams, as it converts
 * line ends. Resolves with the bytes sent and which path carried them.
 */
export async function sendDownload(download: Download, socket: Socket, options: TransferOptions): Promise<{ bytes: number; zeroCopy: boolean }> {
  if (!options.ascii && !options.rateLimit) {
    if (download.sendTo) {
      // No socket timeout here: destroying the socket would close its descriptor under the
      // backend's transfer, which keeps its own idle timeout.
      const sent = await download.sendTo(socket, options);
      if (sent !== null) {
        await new Promise<void>((resolve) => socket.end(resolve));
        return { bytes: sent, zeroCopy: true };
      }
    }
    if (download.readAt) {
      armIdleTimeout(socket, options.idleTimeoutMs);
      return { bytes: await sendByReads(download.readAt, download.start, download.size, socket, options.signal), zeroCopy: false };
    }
  }
  return { bytes: await sendData(download.stream, socket, options), zeroCopy: false };
}

/**
 * Client to server into an upload: the upload receives the socket itself when it can (the
 * local backend's splice(2) into a fresh file over plain TCP), else the stream path; TYPE A
 * always streams.
 */
export async function receiveUpload(socket: Socket, upload: Upload, options: TransferOptions): Promise<{ bytes: number; zeroCopy: boolean }> {
  if (!options.ascii && !options.rateLimit && upload.receiveFrom && !wasReadByJavaScript(socket)) {
    const received = await upload.receiveFrom(socket, options);
    if (received !== null) return { bytes: received, zeroCopy: true };
  }
  return { bytes: await receiveData(socket, upload.stream, options), zeroCopy: false };
}

/**
 * Client to server (STOR, APPE, STOU). Resolves with the bytes written to the destination,
 * and only when the client ended the upload cleanly: a reset or truncated connection can
 * look like an ordinary end of stream (see peer-reset.ts, and `pipeline` resolves for
 * it), so it rejects with FERRY_ERR_UPLOAD_TRUNCATED rather than let a partial file be
 * committed.
 */
export async function receiveData(socket: Socket, destination: Writable, options: TransferOptions): Promise<number> {
  armIdleTimeout(socket, options.idleTimeoutMs);
  const endedCleanly = options.endedCleanly ?? (() => !resetByPeer(socket));
  let clean = false;
  // Judged at once: our side closes soon after 'end', and the kernel's answer with it.
  // A TLS upload can have ended already (an empty one whose close_notify came with the
  // handshake): its watch recorded how, so it is judged now.
  if (socket.readableEnded) clean = endedCleanly();
  else socket.once('end', () => (clean = endedCleanly()));
  let bytes = 0;
  const stages = stagesFor(options, () => new CrlfToLf());
  const counted = stages.length > 0 ? stages[stages.length - 1]! : socket;
  counted.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  await pipeline([socket, ...stages, destination], { signal: options.signal });
  if (!clean) throw new FtpError('FERRY_ERR_UPLOAD_TRUNCATED');
  return bytes;
}
