/**
 * Sockets whose bytes JavaScript has started reading (a PROXY header read off a passive
 * data connection). libuv may go on reading such a socket into its stream buffer, so a
 * zero-copy receive, which reads the kernel socket itself, would lose bytes to that
 * race: their uploads take the stream path.
 */
import type { Socket } from 'node:net';

const readSockets = new WeakSet<Socket>();

export function markReadByJavaScript(socket: Socket): void {
  readSockets.add(socket);
}

export function wasReadByJavaScript(socket: Socket): boolean {
  return readSockets.has(socket);
}
