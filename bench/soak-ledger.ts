/**
 * The soak's record of what each path may hold: its committed versions (in order) and
 * the uploads tried on it. Upload contents are slices of one random pool, so a file read
 * back can be classified exactly: the current version (fine), an older committed version
 * (a lost update), a strict prefix of an upload tried there (a truncated upload that was
 * committed), or anything else (corrupt).
 */
import { createHash, randomBytes } from 'node:crypto';

export type Verdict = 'current' | 'stale' | 'truncated' | 'corrupt' | 'missing';

export interface Version {
  hash: string;
  size: number;
}

/** Where in the pool an upload's bytes come from. */
export interface Slice {
  offset: number;
  size: number;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export class Ledger {
  readonly pool: Buffer;
  private readonly committed = new Map<string, Version[]>();
  private readonly attempts = new Map<string, Slice[]>();

  constructor(poolBytes: number) {
    this.pool = randomBytes(poolBytes);
  }

  slice(size: number): Slice {
    const s = Math.min(size, this.pool.length);
    return { offset: Math.floor(Math.random() * (this.pool.length - s + 1)), size: s };
  }

  bytes(slice: Slice): Buffer {
    return this.pool.subarray(slice.offset, slice.offset + slice.size);
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
      (s) => content.length < s.size && this.pool.subarray(s.offset, s.offset + content.length).equals(content),
    );
    return isPrefix ? 'truncated' : 'corrupt';
  }
}
