/**
 * Counts by key (an address, a user) kept by the primary for all workers, with each
 * worker's share kept apart, so a worker that dies gives its share back and a worker
 * cannot give back what it never took.
 */
function add(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

export class WorkerTally {
  private readonly byKey = new Map<string, number>();
  /** Worker id -> its count per key. */
  private readonly byWorker = new Map<number, Map<string, number>>();
  private sum = 0;

  get total(): number {
    return this.sum;
  }

  count(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  take(worker: number, key: string): void {
    const own = this.byWorker.get(worker) ?? new Map<string, number>();
    this.byWorker.set(worker, own);
    add(own, key, 1);
    add(this.byKey, key, 1);
    this.sum++;
  }

  give(worker: number, key: string): void {
    const own = this.byWorker.get(worker);
    if (!own?.has(key)) return;
    add(own, key, -1);
    add(this.byKey, key, -1);
    this.sum--;
  }

  /** A worker exited: what it held went with it. */
  dropWorker(worker: number): void {
    for (const [key, count] of this.byWorker.get(worker) ?? []) {
      add(this.byKey, key, -count);
      this.sum -= count;
    }
    this.byWorker.delete(worker);
  }
}
