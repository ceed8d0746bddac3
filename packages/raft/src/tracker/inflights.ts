/**
 * The in-flight window of one follower: append messages sent but not yet
 * acknowledged. Its size limits pipelining, so a slow follower (or a lossy
 * link) cannot make the leader buffer unbounded traffic for it.
 *
 * A ring buffer of (last index in message, bytes in message), grown on demand
 * rather than preallocated, because one process hosts thousands of groups and
 * most followers never have more than a couple of messages in flight.
 */
import { assert } from "../assert.ts";
import type { LogIndex } from "../types.ts";

export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private indexes: LogIndex[] = [];
  private sizes: number[] = [];

  constructor(
    /** At most this many messages in flight. */
    readonly messagesMax: number,
    /** At most about this many bytes in flight (soft: one message may overshoot). */
    readonly bytesMax: number,
  ) {
    assert(messagesMax > 0, "inflight window must allow at least one message");
    assert(bytesMax > 0, "inflight byte budget must be positive");
  }

  /** Records a sent message whose last entry is `index`; indexes must increase. */
  add(index: LogIndex, bytes: number): void {
    assert(!this.full(), "cannot add to a full inflight window");
    if (this.count > 0) {
      const last = this.indexes[this.slot(this.count - 1)];
      assert(last !== undefined && index > last, "inflight indexes must increase");
    }
    if (this.count === this.indexes.length) this.grow();
    this.indexes[this.slot(this.count)] = index;
    this.sizes[this.slot(this.count)] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is at most `index` (they were acknowledged). */
  freeLE(index: LogIndex): void {
    while (this.count > 0) {
      const first = this.indexes[this.start];
      const size = this.sizes[this.start];
      assert(first !== undefined && size !== undefined, "occupied slot holds a value");
      if (first > index) break;
      this.bytes -= size;
      this.count--;
      this.start = this.count === 0 ? 0 : (this.start + 1) % this.indexes.length;
    }
  }

  full(): boolean {
    return this.count >= this.messagesMax || this.bytes >= this.bytesMax;
  }

  get messageCount(): number {
    return this.count;
  }

  get byteCount(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }

  private slot(offset: number): number {
    const capacity = this.indexes.length;
    return capacity === 0 ? 0 : (this.start + offset) % capacity;
  }

  /** Doubles the buffer (up to messagesMax), unrolling the ring so `start` becomes 0. */
  private grow(): void {
    const capacity = this.indexes.length;
    const next = Math.min(Math.max(1, capacity * 2), this.messagesMax);
    assert(next > capacity, "grow only when the window has room");
    const indexes: LogIndex[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const slot = (this.start + i) % capacity;
      indexes.push(this.indexes[slot] ?? 0);
      sizes.push(this.sizes[slot] ?? 0);
    }
    this.indexes = indexes;
    this.sizes = sizes;
    this.indexes.length = next;
    this.sizes.length = next;
    this.start = 0;
  }
}
