/**
 * Things shared by every session of one user (or one home) on this server, made on the
 * first session's login and dropped with the last one's logout, so the maps hold only
 * what logged-in users need.
 */
export class SharedByKey<T> {
  private readonly entries = new Map<string, { value: T; holders: number }>();

  /** The value for `key` (made by `create` if none), held until the returned release is called (once). */
  hold(key: string, create: () => T): { value: T; release: () => void } {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { value: create(), holders: 0 };
      this.entries.set(key, entry);
    }
    entry.holders++;
    const held = entry;
    let released = false;
    return {
      value: held.value,
      release: () => {
        if (released) return;
        released = true;
        if (--held.holders === 0 && this.entries.get(key) === held) this.entries.delete(key);
      },
    };
  }

  /** How many hold `key` now. */
  holders(key: string): number {
    return this.entries.get(key)?.holders ?? 0;
  }
}
