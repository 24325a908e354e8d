/**
 * The soak's record of what each path may hold: its committed versions (in order) and
 * the uploads tried on it. Upload contents are slices of one of two pools (random bytes
 * for TYPE I; LF-ended text lines for TYPE A, sent with CRLF), so a file read back can be
 * classified exactly: the current version (fine), an older committed version (a lost
 * update), a strict prefix of an upload tried there (a truncated upload that was
 * committed), or anything else (corrupt).
 */
import { createHash, randomBytes } from 'node:crypto';

export type Verdict = 'current' | 'stale' | 'truncated' | 'corrupt' | 'missing';

export interface Version {
  hash: string;
  size: number;
}

/** Where an upload's bytes come from: a range of the binary pool, or whole lines of the text pool (as stored, LF-ended). */
export interface Slice {
  pool: 'binary' | 'text';
  offset: number;
  size: number;
}

const LF = 0x0a;

/** Printable lines of 1 to 60 characters, each ended by LF, filling `bytes`. */
function textPool(bytes: number): Buffer {
  const alphabet = randomBytes(bytes).toString('base64');
  const out = Buffer.alloc(bytes);
  let at = 0;
  while (at < bytes) {
    const length = Math.min(1 + Math.floor(Math.random() * 60), bytes - at - 1);
    out.write(alphabet.slice(at, at + length), at, 'latin1');
    at += length;
    out[at++] = LF;
  }
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export class Ledger {
  private readonly pools: Record<Slice['pool'], Buffer>;
  private readonly committed = new Map<string, Version[]>();
  private readonly attempts = new Map<string, Slice[]>();

  constructor(poolBytes: number) {
    this.pools = { binary: randomBytes(poolBytes), text: textPool(poolBytes >> 1) };
  }

  slice(size: number): Slice {
    const s = Math.min(size, this.pools.binary.length);
    return { pool: 'binary', offset: Math.floor(Math.random() * (this.pools.binary.length - s + 1)), size: s };
  }

  /** Whole lines of text, about `size` bytes as stored. */
  textSlice(size: number): Slice {
    const text = this.pools.text;
    const lineAfter = (at: number) => (at <= 0 ? 0 : text.indexOf(LF, at - 1) + 1);
    const offset = lineAfter(Math.floor(Math.random() * Math.max(text.length - size, 1)));
    const end = size === 0 ? offset : lineAfter(Math.min(offset + size, text.length));
    return { pool: 'text', offset, size: end - offset };
  }

  /** The content the server should store. */
  bytes(slice: Slice): Buffer {
    return this.pools[slice.pool].subarray(slice.offset, slice.offset + slice.size);
  }

  /** What the client sends: text lines end with CRLF on the wire (TYPE A). */
  wire(slice: Slice): Buffer {
    const stored = this.bytes(slice);
    return slice.pool === 'binary' ? stored : Buffer.from(stored.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');
  }

  attempt(path: string, slice: Slice): void {
    const list = this.attempts.get(path) ?? [];
    list.push(slice);
    // Only recent attempts matter for classifying a truncation; keep memory bounded.
    if (list.length > 64) list.shift();
    this.attempts.set(path, list);
  }

  commit(path: string, content: Buffer): void {
    const list = this.committed.get(path) ?? [];
    list.push({ hash: sha256(content), size: content.length });
    this.committed.set(path, list);
  }

  current(path: string): Version | null {
    const list = this.committed.get(path);
    return list?.[list.length - 1] ?? null;
  }

  paths(): string[] {
    return [...this.committed.keys()];
  }

  /** What `content` (read from `path`, or null when the file is absent) is, by the record. */
  classify(path: string, content: Buffer | null): Verdict {
    const current = this.current(path);
    if (content === null) return current ? 'missing' : 'current';
    const hash = sha256(content);
    if (current?.hash === hash) return 'current';
    if ((this.committed.get(path) ?? []).some((v) => v.hash === hash)) return 'stale';
    const isPrefix = (this.attempts.get(path) ?? []).some(
      (s) => content.length < s.size && this.bytes(s).subarray(0, content.length).equals(content),
    );
    return isPrefix ? 'truncated' : 'corrupt';
  }
}
