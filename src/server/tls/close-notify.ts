/**
 * The close_notify policy for uploads under PROT P (`tls.strict_upload_eof`, after vsftpd's
 * strict_ssl_read_eof): a TLS upload is complete only when the client sent close_notify
 * before closing. Without it, whoever can cut the TCP connection (a FIN or RST injected on
 * the path) could truncate the file undetected, since a TCP close is unauthenticated.
 *
 * Node's TLSSocket emits the same end of file for a close_notify, for a bare TCP FIN and
 * (see peer-reset.ts) for some resets, and does not expose OpenSSL's shutdown state. What
 * differs is where the end of file comes from. A close_notify is decrypted while libuv is
 * still reading the TCP connection (after it, Node's TLS layer ignores the TCP end). A
 * bare FIN reaches TLS only when libuv read it, and libuv stops reading at that moment.
 * So at the end of file, before Node handles it, the watch asks libuv to start reading
 * the TCP handle: "already reading" means TCP has not ended, so TLS ended on a
 * close_notify. The TLS socket keeps wrapping the TCP handle natively: decryption never
 * goes through JavaScript stream glue.
 *
 * This leans on Node's handle internals (`_handle`, `_parent`, `onread`, `reading`);
 * without them the watch refuses to judge, and a strict server refuses the upload rather
 * than accept one it cannot check. The upload-integrity tests hold it to a bare FIN, a
 * reset and a proper close.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { getSystemErrorName } from 'node:util';
import { resetByPeer } from '../data/peer-reset.js';

interface StreamHandle {
  /** Called by the native stream per read; with no buffer for an end of file or an error. */
  onread: (...args: unknown[]) => unknown;
  /** Whether JavaScript wants the stream read (false while the socket applies backpressure). */
  reading: boolean;
  readStart(): number;
  readStop(): number;
  /** Under a TLS handle: the TCP handle it wraps. */
  _parent?: StreamHandle;
}

function handlesOf(secure: TLSSocket): { tls: StreamHandle; tcp: StreamHandle } | null {
  const tls = (secure as unknown as { _handle?: Partial<StreamHandle> })._handle;
  const tcp = tls?._parent;
  if (typeof tls?.onread !== 'function' || typeof tcp?.readStart !== 'function' || typeof tcp.readStop !== 'function') return null;
  return { tls: tls as StreamHandle, tcp };
}

export class CloseNotifyWatch {
  /** How the read side ended, once it has: a close_notify, or the TCP connection's end. */
  private ending: 'close_notify' | 'tcp' | null = null;
  private reset = false;
  private readonly judged: boolean;

  /** Call right after wrapping `tcp` in `secure`, before anything is read. */
  constructor(
    secure: TLSSocket,
    private readonly tcp: Socket,
  ) {
    const handles = handlesOf(secure);
    this.judged = handles !== null;
    if (!handles) return;
    const { tls, tcp: tcpHandle } = handles;
    const onread = tls.onread;
    tls.onread = (...args: unknown[]) => {
      // No buffer: an end of file (judged before Node handles it) or a read error (judged
      // too, but never asked: Node destroys the socket, so 'end' does not come).
      if (args[0] === undefined && this.ending === null) this.judge(tls, tcpHandle);
      return onread.apply(tls, args);
    };
  }

  private judge(tls: StreamHandle, tcpHandle: StreamHandle): void {
    // With reading paused, libuv cannot have read a FIN: only a decrypted close_notify ends TLS.
    if (!tls.reading) {
      this.ending = 'close_notify';
      return;
    }
    const status = tcpHandle.readStart();
    // libuv's "already reading", named the way Node names libuv's codes on every platform.
    if (status < 0 && getSystemErrorName(status) === 'EALREADY') {
      this.ending = 'close_notify';
      return;
    }
    // libuv stopped reading: TCP ended (or failed). Our side is still open, so a reset is
    // still told apart from a FIN.
    this.ending = 'tcp';
    this.reset = resetByPeer(this.tcp);
    if (status === 0) tcpHandle.readStop();
  }

  /**
   * At the TLS socket's 'end': whether the client closed cleanly under this policy. A
   * close_notify authenticates the end of the data (whatever TCP does afterwards; many
   * clients wait for ours before closing TCP). A bare TCP close is accepted only when not
   * strict and not a reset.
   */
  endedCleanly(strict: boolean): boolean {
    if (!this.judged) return !strict && !resetByPeer(this.tcp);
    if (this.ending === 'close_notify') return true;
    return !strict && !this.reset;
  }
}
