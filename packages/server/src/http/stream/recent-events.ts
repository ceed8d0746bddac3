// The newest stream events, in memory, for live fan-out: a ring of at most
// limits.streamRecentEventsMax events, each with its JSON text made once. It
// holds every event in (floor, newest] without a gap; a receiver whose
// position is below `floor` is served from storage instead.

import { streamRecentEventsMax } from "../../limits.ts";

export interface RecentEvent {
  readonly position: number;
  readonly roomId: string;
  readonly text: string;
}

export class RecentEvents {
  readonly #capacity: number;
  readonly #items: Array<RecentEvent | undefined>;
  #start = 0;
  #count = 0;
  #floor: number;
  #newest: number;

  constructor(head: number, capacity = streamRecentEventsMax) {
    this.#capacity = capacity;
    this.#items = new Array<RecentEvent | undefined>(capacity);
    this.#floor = head;
    this.#newest = head;
  }

  /** Every event above this position and up to `newest` is held. */
  get floor(): number {
    return this.#floor;
  }

  get newest(): number {
    return this.#newest;
  }

  /**
   * Adds events in stream order. An event that does not follow the newest one
   * directly (another process wrote in between) restarts the ring after the
   * gap: the missing events are then read from storage.
   */
  add(event: RecentEvent): void {
    if (event.position <= this.#newest) return;
    if (event.position !== this.#newest + 1) {
      this.#start = 0;
      this.#count = 0;
      this.#floor = event.position - 1;
    }
    if (this.#count === this.#capacity) {
      const evicted = this.#items[this.#start];
      if (evicted !== undefined) this.#floor = evicted.position;
      this.#start = (this.#start + 1) % this.#capacity;
      this.#count -= 1;
    }
    this.#items[(this.#start + this.#count) % this.#capacity] = event;
    this.#count += 1;
    this.#newest = event.position;
  }

  /**
   * Calls `visit` for each held event after `position`, oldest first, until it
   * returns false. `position` must be at least `floor`.
   */
  forEachAfter(position: number, visit: (event: RecentEvent) => boolean): void {
    let low = 0;
    let high = this.#count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const item = this.#items[(this.#start + middle) % this.#capacity];
      if (item !== undefined && item.position <= position) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < this.#count; index += 1) {
      const item = this.#items[(this.#start + index) % this.#capacity];
      if (item !== undefined && !visit(item)) return;
    }
  }
}
