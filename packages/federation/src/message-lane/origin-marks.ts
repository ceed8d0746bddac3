import type { NodeId } from "@parley/raft";
import type { OriginMark } from "../frames/frame.ts";
import { originsPerRoomMax, outOfOrderPerOriginMax } from "../limits.ts";
import type { RoomMessageStore } from "./message-store.ts";

interface OriginState {
  contiguous: number;
  readonly ahead: Set<number>;
}

export type MarkOutcome = "new" | "duplicate" | "too-far-ahead" | "too-many-origins";

/**
 * Which message ids of one room a server holds, in memory: per origin, the
 * contiguous high-water mark and the few sequences held above it. This is
 * the routing layer's deduplication set, and it is exact with bounded memory:
 * an id at or below the mark is a duplicate forever (the "horizon" is the
 * mark itself, which only grows), and above it at most
 * `outOfOrderPerOriginMax` sequences are remembered. A message further ahead
 * than that is refused (not stored): the gap is a loss that backfill repairs
 * in order, after which the message is fetched again.
 */
export class OriginMarks {
  readonly #origins = new Map<NodeId, OriginState>();
  /** Bumped on every change, so the lane knows when its marks are worth announcing. */
  #version = 0;

  static fromStore(store: RoomMessageStore): OriginMarks {
    const marks = new OriginMarks();
    for (const origin of store.origins()) {
      marks.#origins.set(origin, {
        contiguous: store.contiguous(origin),
        ahead: new Set(store.ahead(origin)),
      });
    }
    return marks;
  }

  get version(): number {
    return this.#version;
  }

  has(origin: NodeId, sequence: number): boolean {
    const state = this.#origins.get(origin);
    if (state === undefined) return false;
    return sequence <= state.contiguous || state.ahead.has(sequence);
  }

  /** Whether `add` would take this id (without taking it). */
  check(origin: NodeId, sequence: number): MarkOutcome {
    const state = this.#origins.get(origin);
    if (state === undefined) {
      if (this.#origins.size >= originsPerRoomMax) return "too-many-origins";
      return sequence - 1 > outOfOrderPerOriginMax ? "too-far-ahead" : "new";
    }
    if (sequence <= state.contiguous || state.ahead.has(sequence)) return "duplicate";
    if (sequence - state.contiguous - 1 > outOfOrderPerOriginMax) return "too-far-ahead";
    return "new";
  }

  /** Records a stored id; the caller checked it with `check` first. */
  add(origin: NodeId, sequence: number): void {
    let state = this.#origins.get(origin);
    if (state === undefined) {
      state = { contiguous: 0, ahead: new Set() };
      this.#origins.set(origin, state);
    }
    if (sequence === state.contiguous + 1) {
      state.contiguous = sequence;
      // Bounded by the ahead set's size (at most outOfOrderPerOriginMax).
      while (state.ahead.delete(state.contiguous + 1)) state.contiguous += 1;
    } else {
      state.ahead.add(sequence);
    }
    this.#version += 1;
  }

  contiguous(origin: NodeId): number {
    return this.#origins.get(origin)?.contiguous ?? 0;
  }

  /** The highest sequence held for `origin` (contiguous or ahead). */
  highest(origin: NodeId): number {
    const state = this.#origins.get(origin);
    if (state === undefined) return 0;
    let highest = state.contiguous;
    for (const sequence of state.ahead) highest = Math.max(highest, sequence);
    return highest;
  }

  /** The contiguous marks, sorted by origin, origins at 0 left out: what a marks frame carries. */
  list(): OriginMark[] {
    const marks: OriginMark[] = [];
    for (const [origin, state] of this.#origins) {
      if (state.contiguous > 0) marks.push({ origin, sequence: state.contiguous });
    }
    return marks.sort((left, right) => (left.origin < right.origin ? -1 : 1));
  }
}
