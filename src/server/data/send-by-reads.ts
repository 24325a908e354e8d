/**
 * Server to client by positioned reads into two reused buffers: the path for a download
 * the server must copy (TLS, or when zero-copy is not available or its threads are busy).
 * A file read stream allocates a fresh buffer per chunk (1 MiB: page faults and zeroing
 * each time) and runs a stream pipeline; here one buffer is read while the other is being
 * written, and a buffer is read into again only once the socket has taken its bytes
 * (the write callback), which is also the backpressure.
 */
import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';

/** The largest read; smaller files get buffers of their size. */
const CHUNK_BYTES = 1024 * 1024;

export type ReadAt = (buffer: Buffer, position: number, length: number) => Promise<number>;

/** Resolves with the bytes sent from `start` to `end` (fewer if the file shrank), once the socket has ended. */
export async function sendByReads(readAt: ReadAt, start: number, end: number, socket: Socket, signal: AbortSignal): Promise<number> {
  const chunk = Math.max(1, Math.min(CHUNK_BYTES, end - start));
  const buffers = [Buffer.allocUnsafeSlow(chunk), Buffer.allocUnsafeSlow(chunk)];
  // Each resolves (never rejects) when its buffer is free again: with the write's error, if any.
  const inFlight: (Promise<Error | null | undefined> | undefined)[] = [undefined, undefined];
  // A socket error reaches the pending writes' callbacks (and finished()); the listener
  // keeps it from being thrown as well, also when it comes after the transfer.
  socket.on('error', () => undefined);
  // ABOR or a failed transfer: the socket goes, and with it every pending write (their callbacks get the error).
  const onAbort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  signal.addEventListener('abort', onAbort, { once: true });
  let position = start;
  try {
    for (let turn = 0; position < end; turn ^= 1) {
      const error = await inFlight[turn];
      if (error) throw error;
      signal.throwIfAborted();
      const buffer = buffers[turn]!;
      const length = await readAt(buffer, position, Math.min(chunk, end - position));
      if (length === 0) break; // the file shrank since it was opened: send what there was
      position += length;
      inFlight[turn] = new Promise((resolve) => socket.write(buffer.subarray(0, length), resolve));
    }
    for (const pending of inFlight) {
      const error = await pending;
      if (error) throw error;
    }
    socket.end();
    await finished(socket, { readable: false, signal });
    return position - start;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
