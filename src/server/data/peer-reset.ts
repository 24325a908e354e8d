/**
 * Whether the client reset a data connection. Node cannot be trusted to say: libuv turns
 * a reset into an ordinary end of file when it sees POLLHUP right after a short read (it
 * synthesises EOF instead of reading the pending ECONNRESET), so a socket may emit 'end'
 * for a client that never sent FIN. The kernel still knows: a reset connection is in
 * state CLOSE, where getpeername(2) fails with ENOTCONN, while one whose client sent FIN
 * (CLOSE_WAIT, our side still open) keeps its peer.
 */
import type { Socket } from 'node:net';

interface TcpHandle {
  getpeername(out: object): number;
}

/** The TCP handle under `socket`: its own, or the one a native TLSSocket wraps. */
function tcpHandleOf(socket: Socket): TcpHandle | null {
  const handle = (socket as unknown as { _handle?: { getpeername?: unknown; _parent?: { getpeername?: unknown } } })._handle;
  if (typeof handle?.getpeername === 'function') return handle as TcpHandle;
  if (typeof handle?._parent?.getpeername === 'function') return handle._parent as TcpHandle;
  return null;
}

/**
 * True when the connection is gone (reset, or closed, or no handle to ask). Call it
 * while our side is still open, e.g. synchronously in the 'end' listener: once we close
 * too, a cleanly closed connection also ends up without a peer.
 */
export function resetByPeer(socket: Socket): boolean {
  const handle = tcpHandleOf(socket);
  return handle === null || handle.getpeername({}) !== 0;
}
