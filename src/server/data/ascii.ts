/**
 * TYPE A line-ending conversion: LF on disk, CRLF on the wire (RFC 959 3.1.1.1).
 * Both directions are stateful across chunk boundaries, and a chunk with nothing to
 * convert is passed through without copying.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

/** Disk to wire: LF becomes CRLF, unless the file already has CRLF there. */
export class LfToCrlf extends Transform {
  private lastWasCr = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const carriedCr = this.lastWasCr;
    if (chunk.length > 0) this.lastWasCr = chunk[chunk.length - 1] === CR;
    let count = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      if (!(i === 0 ? carriedCr : chunk[i - 1] === CR)) count++;
    }
    if (count === 0) return callback(null, chunk);
    const out = Buffer.allocUnsafe(chunk.length + count);
    let o = 0;
    let previousWasCr = carriedCr;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF && !previousWasCr) out[o++] = CR;
      out[o++] = byte;
      previousWasCr = byte === CR;
    }
    callback(null, out);
  }
}

/** Wire to disk: CRLF becomes LF; a lone CR is kept. */
export class CrlfToLf extends Transform {
  private pendingCr = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length === 0 || (chunk.indexOf(CR) === -1 && !this.pendingCr)) return callback(null, chunk);
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let o = 0;
    if (this.pendingCr && chunk[0] !== LF) out[o++] = CR;
    this.pendingCr = false;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === CR) {
        if (i === chunk.length - 1) this.pendingCr = true;
        else if (chunk[i + 1] !== LF) out[o++] = CR;
        continue;
      }
      out[o++] = byte;
    }
    callback(null, out.subarray(0, o));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingCr ? Buffer.from([CR]) : null);
  }
}
