// One Raft group's log as the core sees it: the whole log after the
// compaction point, the hard state and the newest snapshot, all in memory
// (the Raft core reads storage synchronously in the middle of a step), each
// write reported to the pending batch that the next flush makes durable.
// The log stays bounded because the group compacts it behind its snapshots
// (raftLogEntriesRetained in packages/federation).
//
// The behaviour is the Raft package's contract (its shared suite runs against
// this class on both databases); the state is kept in the same shape as the
// rows, so a flush writes what is here and a restart reads it back.

import {
  type ConfState,
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  type Entry,
  entryBytes,
  type HardState,
  type InitialState,
  type LogIndex,
  type Snapshot,
  StorageError,
  type Term,
  type WritableStorage,
} from "@parley/raft";
import { StorageError as ServerStorageError } from "../../storage/errors.ts";

/** What one write changed, for the pending batch. */
export interface RaftWrite {
  /** Entries from this index on are new (0: all of them; Infinity: none). */
  readonly rewriteFromIndex: number;
  /** Entries that may be stored were replaced or dropped at or after `rewriteFromIndex`. */
  readonly truncates: boolean;
  /** The compaction point moved: stored entries at or before it go. */
  readonly movesOffset: boolean;
  /** What the write adds to the batch. */
  readonly bytes: number;
}

/** Told about each write of a group storage (the pending batch). */
export interface RaftWriteListener {
  written(storage: RaftGroupStorage, write: RaftWrite): void;
}

const rowOnly = {
  rewriteFromIndex: Number.POSITIVE_INFINITY,
  truncates: false,
  movesOffset: false,
};

/** The persisted form of a group: its row and its entries after the compaction point. */
export interface RaftGroupState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  /** The log starts after (offsetIndex, offsetTerm). */
  readonly offsetIndex: LogIndex;
  readonly offsetTerm: Term;
  readonly entries: readonly Entry[];
}

export const EMPTY_RAFT_GROUP_STATE: RaftGroupState = Object.freeze({
  hardState: EMPTY_HARD_STATE,
  snapshot: EMPTY_SNAPSHOT,
  offsetIndex: 0,
  offsetTerm: 0,
  entries: [],
});

/** Bytes a snapshot adds to the batch: its data plus its row. */
const groupRowBytes = 256;

function assertCaller(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ServerStorageError("invalid-input", message);
}

export class RaftGroupStorage implements WritableStorage {
  readonly room: string;
  readonly node: string;
  readonly #listener: RaftWriteListener;
  #hardState: HardState;
  #snapshot: Snapshot;
  #offsetIndex: LogIndex;
  #offsetTerm: Term;
  #log: Entry[];

  constructor(room: string, node: string, state: RaftGroupState, listener: RaftWriteListener) {
    this.room = room;
    this.node = node;
    this.#listener = listener;
    this.#hardState = state.hardState;
    this.#snapshot = state.snapshot;
    this.#offsetIndex = state.offsetIndex;
    this.#offsetTerm = state.offsetTerm;
    this.#log = [...state.entries];
    for (const [position, entry] of this.#log.entries()) {
      assertCaller(entry.index === state.offsetIndex + 1 + position, "stored entries have a gap");
    }
  }

  /** The group's row as of now: everything but the entries (a flush reads those apart). */
  row(): Omit<RaftGroupState, "entries"> {
    return {
      hardState: this.#hardState,
      snapshot: this.#snapshot,
      offsetIndex: this.#offsetIndex,
      offsetTerm: this.#offsetTerm,
    };
  }

  /** The entries with index >= `low`, for a flush (a copy). */
  entriesFrom(low: LogIndex): readonly Entry[] {
    return this.#log.slice(Math.max(0, low - this.#offsetIndex - 1));
  }

  initialState(): InitialState {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState };
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] {
    assertCaller(low <= high, `invalid range [${low}, ${high})`);
    if (low <= this.#offsetIndex) {
      throw new StorageError(
        "compacted",
        `entry ${low} is compacted (first is ${this.firstIndex()})`,
      );
    }
    assertCaller(
      high <= this.lastIndex() + 1,
      `entries up to ${high} requested, last is ${this.lastIndex()}`,
    );
    const offset = this.#offsetIndex + 1;
    const found = this.#log.slice(low - offset, high - offset);
    // At least one entry, so a single large entry still travels.
    let total = 0;
    for (let count = 0; count < found.length; count += 1) {
      const entry = found[count];
      if (entry === undefined) break;
      total += entryBytes(entry);
      if (count > 0 && total > bytesMax) return found.slice(0, count);
    }
    return found;
  }

  term(index: LogIndex): Term {
    if (index < this.#offsetIndex) {
      throw new StorageError("compacted", `term of ${index} is compacted`);
    }
    if (index === this.#offsetIndex) return this.#offsetTerm;
    const entry = this.#log[index - this.#offsetIndex - 1];
    if (entry === undefined) throw new StorageError("unavailable", `entry ${index} is not stored`);
    return entry.term;
  }

  firstIndex(): LogIndex {
    return this.#offsetIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.#offsetIndex + this.#log.length;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  setHardState(hardState: HardState): void {
    this.#hardState = hardState;
    this.#listener.written(this, { ...rowOnly, bytes: groupRowBytes });
  }

  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    const current = this.#snapshot.metadata.index;
    if (current !== 0 && current >= index) {
      throw new StorageError("snapshotOutOfDate", `snapshot ${index} is not newer than ${current}`);
    }
    this.#snapshot = snapshot;
    this.#offsetIndex = index;
    this.#offsetTerm = snapshot.metadata.term;
    this.#log = [];
    this.#listener.written(this, {
      rewriteFromIndex: 0,
      truncates: true,
      movesOffset: true,
      bytes: groupRowBytes + snapshot.data.byteLength,
    });
  }

  createSnapshot(index: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    const current = this.#snapshot.metadata.index;
    if (index <= current) {
      throw new StorageError("snapshotOutOfDate", `snapshot ${index} is not newer than ${current}`);
    }
    assertCaller(index <= this.lastIndex(), `snapshot ${index} beyond last index`);
    this.#snapshot = { metadata: { index, term: this.term(index), confState }, data };
    this.#listener.written(this, { ...rowOnly, bytes: groupRowBytes + data.byteLength });
    return this.#snapshot;
  }

  compact(index: LogIndex): void {
    if (index <= this.#offsetIndex) {
      throw new StorageError("compacted", `${index} is already compacted`);
    }
    assertCaller(
      index <= this.#snapshot.metadata.index,
      `compacting to ${index} needs a snapshot at least that recent`,
    );
    this.#offsetTerm = this.term(index);
    this.#log = this.#log.slice(index - this.#offsetIndex);
    this.#offsetIndex = index;
    this.#listener.written(this, { ...rowOnly, movesOffset: true, bytes: groupRowBytes });
  }

  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    for (let position = 1; position < entries.length; position += 1) {
      assertCaller(
        entries[position]?.index === first.index + position,
        "appended entries must be contiguous",
      );
    }
    assertCaller(first.index <= this.lastIndex() + 1, `gap: appending ${first.index}`);
    // Entries the snapshot already covers are skipped.
    const skip = Math.max(0, this.firstIndex() - first.index);
    if (skip >= entries.length) return;
    const kept = skip === 0 ? entries : entries.slice(skip);
    const rewriteFromIndex = first.index + skip;
    const truncates = rewriteFromIndex <= this.lastIndex();
    this.#log.length = rewriteFromIndex - this.firstIndex();
    let bytes = 0;
    for (const entry of kept) {
      this.#log.push(entry);
      bytes += entryBytes(entry);
    }
    this.#listener.written(this, { rewriteFromIndex, truncates, movesOffset: false, bytes });
  }
}
