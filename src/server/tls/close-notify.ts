/**
 * The close_notify policy for uploads under PROT P (`tls.strict_upload_eof`, after vsftpd's
 * strict_ssl_read_eof): a TLS upload is complete only when the client sent close_notify
 * before closing. Without it, whoever can cut the TCP connection (a FIN or RST injected on
 * the path) could truncate the file undetected, since a TCP close is unauthenticated.
 *
 * Node's TLSSocket emits the same 'end' for a close_notify, for a bare TCP FIN and (see
 * peer-reset.ts) for some resets, and does not expose OpenSSL's shutdown state. What does
 * differ is *when* the TLS layer ends: on close_notify it pushes its end of file while
 * decrypting the alert, before any TCP FIN; on a bare FIN only when that FIN is fed to it.
 * So the TLS socket reads the TCP connection through a relay (Node then uses its
 * JavaScript stream glue instead of wrapping the TCP handle), and the relay, at the TCP
 * end of file, records whether the TLS layer had already ended and whether the
 * connection was reset.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { resetByPeer } from '../data/peer-reset.js';

/** Node's readable state: `ended` is set when the end of file is pushed, before 'end' is emitted. */
function endOfFilePushed(secure: TLSSocket): boolean {
  return (secure as unknown as { _readableState: { ended: boolean } })._readableState.ended;
}

export class CloseNotifyWatch {
  /** Hand this to the TLS socket instead of the TCP socket. */
  readonly relay: Duplex;
  private secure: TLSSocket | null = null;
  private tcpEnded = false;
  private closeNotifyFirst = false;
  private reset = true;

  constructor(tcp: Socket) {
    // The relay decides when the TCP end reaches TLS; TCP must not close our side before
    // TLS has sent its own close_notify.
    tcp.allowHalfOpen = true;
    this.relay = new Duplex({
      read: () => tcp.resume(),
      write: (chunk: Buffer, _encoding, done) => tcp.write(chunk, done),
      final: (done) => tcp.end(done),
      destroy: (error, done) => {
        tcp.destroy();
        done(error);
      },
    });
    tcp.on('data', (chunk: Buffer) => {
      if (!this.relay.push(chunk)) tcp.pause();
    });
    tcp.once('end', () => {
      // Our side is still open here, so a reset is still told apart from a FIN.
      this.reset = resetByPeer(tcp);
      this.relay.push(null);
    });
    tcp.once('error', (error) => this.relay.destroy(error));
    tcp.once('close', () => this.relay.destroy());
    // Registered before the TLS socket's own listener: every TCP byte has been decrypted
    // by now, but the TCP end of file has not reached TLS yet.
    this.relay.once('end', () => {
      this.tcpEnded = true;
      this.closeNotifyFirst = this.secure !== null && endOfFilePushed(this.secure);
    });
  }

  /** The TLS socket reading from `relay`, once created. */
  observe(secure: TLSSocket): void {
    this.secure = secure;
  }

  /**
   * At the TLS socket's 'end': whether the client closed cleanly under this policy. A TLS
   * end of file ahead of the TCP one is a close_notify, which authenticates the end of the
   * data (whatever TCP does afterwards; many clients wait for ours before closing TCP).
   * Otherwise TCP ended first: a bare close, accepted only when not strict and not a reset.
   */
  endedCleanly(strict: boolean): boolean {
    if (!this.tcpEnded || this.closeNotifyFirst) return true;
    return !strict && !this.reset;
  }
}
