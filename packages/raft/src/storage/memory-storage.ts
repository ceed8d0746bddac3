/**
 * An in-memory Storage, for tests, the simulator, and as the reference the
 * durable implementation is compared with. The write methods are what the
 * caller uses while handling a Ready.
 */
import { assert, fail } from "../assert.ts";
import {
  type ConfState,
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  type Entry,
  type HardState,
  type LogIndex,
  limitEntriesBytes,
  type Snapshot,
  type Term,
} from "../types.ts";
import { type InitialState, StorageError, type WritableStorage } from "./storage.ts";

export class MemoryStorage implements WritableStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private currentSnapshot: Snapshot = EMPTY_SNAPSHOT;
  /**
   * The log starts after (offsetIndex, offsetTerm): log[i] has index
   * offsetIndex + 1 + i. The offset equals the snapshot's position or, after
   * compaction, a later position the snapshot also covers.
   */
  private offsetIndex: LogIndex = 0;
  private offsetTerm: Term = 0;
  private log: Entry[] = [];

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.currentSnapshot.metadata.confState };
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] {
    if (low > high) fail(`invalid range [${low}, ${high})`);
    if (low <= this.offsetIndex) {
      throw new StorageError(
        "compacted",
        `entry ${low} is compacted (first is ${this.firstIndex()})`,
      );
    }
    if (high > this.lastIndex() + 1)
      fail(`entries up to ${high} requested, last is ${this.lastIndex()}`);
    const offset = this.offsetIndex + 1;
    // slice() copies the array, so the caller owns what it gets.
    return limitEntriesBytes(this.log.slice(low - offset, high - offset), bytesMax);
  }

  term(index: LogIndex): Term {
    if (index < this.offsetIndex) {
      throw new StorageError("compacted", `term of ${index} is compacted`);
    }
    if (index === this.offsetIndex) return this.offsetTerm;
    const entry = this.log[index - this.offsetIndex - 1];
    if (entry === undefined) throw new StorageError("unavailable", `entry ${index} is not stored`);
    return entry.term;
  }

  firstIndex(): LogIndex {
    return this.offsetIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.offsetIndex + this.log.length;
  }

  snapshot(): Snapshot {
    return this.currentSnapshot;
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Replaces the whole log with a snapshot received from the leader (or used to bootstrap). */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    const current = this.currentSnapshot.metadata.index;
    if (current !== 0 && current >= index) {
      throw new StorageError("snapshotOutOfDate", `snapshot ${index} is not newer than ${current}`);
    }
    this.currentSnapshot = snapshot;
    this.offsetIndex = index;
    this.offsetTerm = snapshot.metadata.term;
    this.log = [];
  }

  /**
   * Records a snapshot of the application's state as of `index` (which must be
   * applied already). `confState` is the configuration in effect at `index`
   * (the result of the last `applyConfChange` at or before it).
   */
  createSnapshot(index: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    const current = this.currentSnapshot.metadata.index;
    if (index <= current) {
      throw new StorageError("snapshotOutOfDate", `snapshot ${index} is not newer than ${current}`);
    }
    if (index > this.lastIndex()) fail(`snapshot ${index} beyond last index ${this.lastIndex()}`);
    this.currentSnapshot = { metadata: { index, term: this.term(index), confState }, data };
    return this.currentSnapshot;
  }

  /**
   * Discards entries up to and including `index`, keeping its term for
   * matching appends. `index` must be covered by the current snapshot
   * (create it first): a follower that lags behind the compacted log can only
   * catch up from a snapshot at least that recent.
   */
  compact(index: LogIndex): void {
    if (index <= this.offsetIndex) {
      throw new StorageError("compacted", `${index} is already compacted`);
    }
    if (index > this.currentSnapshot.metadata.index)
      fail(`compacting to ${index} needs a snapshot at least that recent`);
    this.offsetTerm = this.term(index);
    this.log = this.log.slice(index - this.offsetIndex);
    this.offsetIndex = index;
  }

  /**
   * Appends entries, replacing any stored entries at the same or later
   * indexes (a new leader may overwrite an uncommitted tail). Entries must be
   * contiguous and start at most at lastIndex + 1.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i]?.index === first.index + i, "appended entries must be contiguous");
    }
    if (first.index > this.lastIndex() + 1)
      fail(`gap: appending ${first.index} after ${this.lastIndex()}`);
    // Entries already covered by the snapshot are skipped.
    const skip = Math.max(0, this.firstIndex() - first.index);
    if (skip >= entries.length) return;
    const keep = first.index + skip - this.firstIndex();
    // In place: copying the whole log on every append made a long log cost
    // time per append in proportion to its length. Safe because `entries()`
    // hands out copies, so no caller holds this array.
    this.log.length = keep;
    for (const entry of skip === 0 ? entries : entries.slice(skip)) this.log.push(entry);
  }
}
