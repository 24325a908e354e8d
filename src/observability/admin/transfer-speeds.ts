/**
 * The speed of each running transfer, from the byte counts the web admin polls: a
 * transfer keeps no clock of its own. Each transfer's speed is the bytes it moved between
 * two reads at least MIN_WINDOW_MS apart, so frequent polls do not make it jumpy.
 */
const MIN_WINDOW_MS = 500;

interface Sample {
  at: number;
  bytes: number;
  speed: number;
}

export class TransferSpeeds {
  /** Keyed by the transfer itself: a finished transfer's sample goes with it. */
  private readonly samples = new WeakMap<object, Sample>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Bytes per second; 0 until a second reading. */
  speedOf(transfer: object, bytes: number): number {
    const now = this.now();
    const last = this.samples.get(transfer);
    if (!last) {
      this.samples.set(transfer, { at: now, bytes, speed: 0 });
      return 0;
    }
    const elapsed = now - last.at;
    if (elapsed < MIN_WINDOW_MS) return last.speed;
    const speed = Math.max(0, Math.round(((bytes - last.bytes) * 1000) / elapsed));
    this.samples.set(transfer, { at: now, bytes, speed });
    return speed;
  }
}
