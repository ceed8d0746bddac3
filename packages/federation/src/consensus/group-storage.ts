import type { RoomId } from "@parley/protocol";
import {
  type ConfState,
  type Entry,
  type InitialState,
  type LogIndex,
  MemoryStorage,
  type NodeId,
  type Snapshot,
  type Storage,
  type Term,
  type WritableStorage,
} from "@parley/raft";

/**
 * Where a server keeps its rooms' Raft logs: one `WritableStorage` (the Raft
 * package's contract, with its shared test suite) per group. A real server
 * backs every group by one database, so one transaction and one fsync cover
 * all groups' writes of a processing round (see MultiRaftHost.process).
 */
export interface GroupStorageProvider {
  /** The storage of `room`'s group for node `id`: what was persisted, or empty for a new node. */
  open(room: RoomId, id: NodeId): WritableStorage;
  /** Deletes the storage of a node this server no longer runs (it left the sponsor set). */
  destroy(room: RoomId, id: NodeId): void;
}

/** The reference provider, in memory (it survives a simulated crash: it is the "disk"). */
export class MemoryGroupStorage implements GroupStorageProvider {
  readonly #storages = new Map<string, MemoryStorage>();

  open(room: RoomId, id: NodeId): WritableStorage {
    const key = `${room} ${id}`;
    let storage = this.#storages.get(key);
    if (storage === undefined) {
      storage = new MemoryStorage();
      this.#storages.set(key, storage);
    }
    return storage;
  }

  destroy(room: RoomId, id: NodeId): void {
    this.#storages.delete(`${room} ${id}`);
  }
}

/** What a snapshot made on demand contains, supplied by the group's owner. */
export interface SnapshotSource {
  /** The last applied Raft index and the configuration as of it. */
  applied(): { readonly index: LogIndex; readonly confState: ConfState };
  /** The application's state at that index, as snapshot data. */
  data(): Uint8Array;
}

/**
 * The storage the Raft core reads, over the group's writable storage, with
 * one addition: `snapshot()` makes a fresh snapshot at the applied index when
 * the stored one is older. The leader asks for a snapshot to catch up a new
 * learner, and the learner refuses a snapshot whose configuration does not
 * list it (Raft README, "A new member"); a snapshot at the applied index
 * always does, because the leader tracks the learner only once it has
 * applied the change that added it.
 */
export class SnapshottingStorage implements Storage {
  readonly #inner: WritableStorage;
  readonly #source: SnapshotSource;

  constructor(inner: WritableStorage, source: SnapshotSource) {
    this.#inner = inner;
    this.#source = source;
  }

  initialState(): InitialState {
    return this.#inner.initialState();
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] {
    return this.#inner.entries(low, high, bytesMax);
  }

  term(index: LogIndex): Term {
    return this.#inner.term(index);
  }

  firstIndex(): LogIndex {
    return this.#inner.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.#inner.lastIndex();
  }

  snapshot(): Snapshot {
    const stored = this.#inner.snapshot();
    const applied = this.#source.applied();
    if (applied.index <= stored.metadata.index) return stored;
    return this.#inner.createSnapshot(applied.index, applied.confState, this.#source.data());
  }
}
