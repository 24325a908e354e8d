/**
 * The sliding-window scoring shared by the defender (one process) and the workers' ban
 * relay (the primary): each group's event times inside the observation window, in a map
 * kept in order of each group's latest event (oldest first), so expired groups are swept
 * from the front and, past `maxEntries`, the oldest group is dropped. Memory stays bounded
 * whatever the clients do.
 */
export interface AbuseScoresOptions {
  threshold: number;
  observationMs: number;
  maxEntries: number;
}

/** Drops the oldest entry of `map` (its first in insertion order) once it holds more than `maxEntries`. */
export function dropOldest(map: Map<string, unknown>, maxEntries: number): void {
  if (map.size > maxEntries) map.delete(map.keys().next().value!);
}

export class AbuseScores {
  /** Group -> times (ms) of its events still inside the window, oldest first. */
  private readonly times = new Map<string, number[]>();

  constructor(private readonly options: AbuseScoresOptions) {}

  /**
   * Scores one event of `group` at `now`. When it reaches the threshold, returns the
   * events in the window (this one included) and forgets them: a ban follows, and the
   * score starts afresh after it. Otherwise null.
   */
  hit(group: string, now: number): number | null {
    const times = this.inWindow(group, now);
    times.push(now);
    // Delete and set again: the map stays in order of the latest event.
    this.times.delete(group);
    if (times.length >= this.options.threshold) return times.length;
    this.times.set(group, times);
    dropOldest(this.times, this.options.maxEntries);
    return null;
  }

  /** Events of `group` inside the window at `now`. */
  recent(group: string, now: number): number {
    return this.inWindow(group, now).length;
  }

  forget(group: string): void {
    this.times.delete(group);
  }

  /** Forgets the groups whose latest event has left the window. */
  sweep(now: number): void {
    for (const [group, times] of this.times) {
      if (now - times[times.length - 1]! < this.options.observationMs) break;
      this.times.delete(group);
    }
  }

  private inWindow(group: string, now: number): number[] {
    return (this.times.get(group) ?? []).filter((time) => now - time < this.options.observationMs);
  }
}
