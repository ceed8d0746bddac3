import { ParleyError } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { MessageId, StoredMessage } from "./stamped-message.ts";

/**
 * Where a server keeps one room's messages: the durable history, written
 * before anything about a message is sent on (the caller makes the writes of
 * one processing round durable before sending its frames).
 *
 * Contract:
 * - `put` stores a message under its id (origin, sequence) and returns true,
 *   or returns false and changes nothing if that id is already stored.
 * - `after(origin, sequence, countMax)` returns stored messages of `origin`
 *   with a higher sequence, ascending, at most `countMax`.
 * - `contiguous(origin)` is the highest n such that sequences 1..n of
 *   `origin` are all stored (0 when none is); `ahead(origin)` lists the
 *   stored sequences above n + 1, ascending. The lane rebuilds its in-memory
 *   marks from these two on restart, so a store answers them without a scan.
 * - `lastOwn(origin)` is the highest stored sequence of `origin` and the
 *   stamp it carried (for an origin's restart: sequences continue after it,
 *   and stamps never go backwards).
 * - Returned objects are shared and never mutated.
 */
export interface RoomMessageStore {
  put(stored: StoredMessage): boolean;
  get(id: MessageId): StoredMessage | undefined;
  after(origin: NodeId, sequence: number, countMax: number): readonly StoredMessage[];
  origins(): readonly NodeId[];
  contiguous(origin: NodeId): number;
  ahead(origin: NodeId): readonly number[];
  last(origin: NodeId): StoredMessage | undefined;
  /** Every stored message, in no particular order (for tests and history views). */
  all(): Iterable<StoredMessage>;
  readonly size: number;
}

interface OriginColumn {
  readonly bySequence: Map<number, StoredMessage>;
  contiguous: number;
  highest: number;
}

/** The reference store, in memory, for tests and the simulator. */
export class MemoryMessageStore implements RoomMessageStore {
  readonly #columns = new Map<NodeId, OriginColumn>();
  readonly #messagesMax: number;
  #size = 0;

  /** `messagesMax` bounds memory: past it `put` throws `capacity_exceeded`. */
  constructor(messagesMax = 1_000_000) {
    this.#messagesMax = messagesMax;
  }

  get size(): number {
    return this.#size;
  }

  put(stored: StoredMessage): boolean {
    const { origin, sequence } = stored.message;
    let column = this.#columns.get(origin);
    if (column === undefined) {
      column = { bySequence: new Map(), contiguous: 0, highest: 0 };
      this.#columns.set(origin, column);
    }
    if (column.bySequence.has(sequence)) return false;
    if (this.#size >= this.#messagesMax) {
      throw new ParleyError("capacity_exceeded", "the message store is full");
    }
    column.bySequence.set(sequence, stored);
    this.#size += 1;
    column.highest = Math.max(column.highest, sequence);
    while (column.bySequence.has(column.contiguous + 1)) column.contiguous += 1;
    return true;
  }

  get(id: MessageId): StoredMessage | undefined {
    return this.#columns.get(id.origin)?.bySequence.get(id.sequence);
  }

  after(origin: NodeId, sequence: number, countMax: number): readonly StoredMessage[] {
    const column = this.#columns.get(origin);
    if (column === undefined) return [];
    const found: StoredMessage[] = [];
    for (let next = sequence + 1; next <= column.highest && found.length < countMax; next += 1) {
      const stored = column.bySequence.get(next);
      if (stored !== undefined) found.push(stored);
    }
    return found;
  }

  origins(): readonly NodeId[] {
    return [...this.#columns.keys()].sort();
  }

  contiguous(origin: NodeId): number {
    return this.#columns.get(origin)?.contiguous ?? 0;
  }

  ahead(origin: NodeId): readonly number[] {
    const column = this.#columns.get(origin);
    if (column === undefined) return [];
    return [...column.bySequence.keys()]
      .filter((sequence) => sequence > column.contiguous + 1)
      .sort((left, right) => left - right);
  }

  last(origin: NodeId): StoredMessage | undefined {
    const column = this.#columns.get(origin);
    return column === undefined ? undefined : column.bySequence.get(column.highest);
  }

  *all(): Iterable<StoredMessage> {
    for (const column of this.#columns.values()) yield* column.bySequence.values();
  }
}
