/**
 * A simulated disk: what a node's Raft state survives a crash with.
 *
 * Two copies of the storage are kept. The page cache (`view`) is what the
 * running node reads: every write lands there at once. The platter
 * (`durable`) only receives writes when they are synced. A crash keeps the
 * platter and, when the scenario says writes may be lost, only a random
 * prefix of the unsynced writes (a disk writes back in order, so a later
 * write never survives an earlier one); the node restarts from that.
 *
 * This is what makes the persist-before-send rule testable: a Ready's vote
 * or entries count only once synced, and a crash between the write and the
 * sync loses them — which is harmless exactly when nothing was sent yet.
 */
import type { Random } from "@parley/simulation";
import {
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  type LogIndex,
  MemoryStorage,
  type Snapshot,
  type Term,
} from "../index.ts";
import type { KeyValueCheckpoint } from "./key-value-store.ts";

type DiskWrite =
  | { readonly kind: "hardState"; readonly hardState: HardState }
  | { readonly kind: "entries"; readonly entries: readonly Entry[] }
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot };

/**
 * The storage a running node reads. A leader sending a snapshot gets one cut
 * from its current applied state (as etcd's server does), so a member that
 * joined after the last compaction receives a configuration that includes it.
 */
export class NodeStorage extends MemoryStorage {
  snapshotSource: (() => Snapshot | null) | null = null;
  /**
   * Set when the node restarts from a durable state machine beyond the
   * snapshot: the core then needs the configuration as of that applied index
   * (README, "Starting, joining, restarting").
   */
  confStateOverride: ConfState | null = null;

  override initialState(): InitialState {
    const state = super.initialState();
    const confState = this.confStateOverride;
    return confState === null ? state : { ...state, confState };
  }

  override snapshot(): Snapshot {
    const stored = super.snapshot();
    const fresh = this.snapshotSource?.() ?? null;
    return fresh !== null && fresh.metadata.index > stored.metadata.index ? fresh : stored;
  }

  /** The snapshot actually stored, which a restart recovers from. */
  storedSnapshot(): Snapshot {
    return super.snapshot();
  }
}

export interface DiskOptions {
  /** The injected bug "forgetVote": the platter never records whom we voted for. */
  readonly forgetVote: boolean;
}

export class SimulatedDisk {
  private durable = new MemoryStorage();
  private unsynced: DiskWrite[] = [];
  view = new NodeStorage();
  /**
   * The state machine's own durable copy, for applications whose state lives
   * on disk (a database) rather than being rebuilt from snapshot and log.
   */
  stateMachine: KeyValueCheckpoint | null = null;

  constructor(private readonly options: DiskOptions) {}

  /** A disk holding only a bootstrap snapshot (the initial configuration), synced. */
  static bootstrapped(snapshot: Snapshot, options: DiskOptions): SimulatedDisk {
    const disk = new SimulatedDisk(options);
    disk.write({ kind: "snapshot", snapshot });
    disk.sync();
    return disk;
  }

  get unsyncedWrites(): number {
    return this.unsynced.length;
  }

  saveHardState(hardState: HardState): void {
    this.write({ kind: "hardState", hardState });
  }

  appendEntries(entries: readonly Entry[]): void {
    if (entries.length > 0) this.write({ kind: "entries", entries });
  }

  installSnapshot(snapshot: Snapshot): void {
    this.write({ kind: "snapshot", snapshot });
  }

  /** Whether the platter holds the entry (index, term), or a snapshot covering it. */
  durablyHolds(index: LogIndex, term: Term): boolean {
    if (index < this.durable.firstIndex()) return true;
    if (index > this.durable.lastIndex()) return false;
    return this.durable.term(index) === term;
  }

  /** fsync: everything written so far is on the platter. */
  sync(): void {
    for (const write of this.unsynced) this.applyTo(this.durable, write, true);
    this.unsynced = [];
  }

  /**
   * Records a snapshot of applied state at `index` and drops the log up to
   * `compactTo`. Like a real snapshot file, it is synced (and so is
   * everything written before it) before the log is truncated.
   */
  compact(index: LogIndex, confState: ConfState, data: Uint8Array, compactTo: LogIndex): void {
    this.sync();
    for (const storage of [this.durable, this.view]) {
      storage.createSnapshot(index, confState, data);
      if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    }
  }

  /**
   * Makes the applied state durable. Everything written before is synced
   * first: the commit index must never be behind what was applied.
   */
  checkpointStateMachine(state: KeyValueCheckpoint): void {
    this.sync();
    this.stateMachine = state;
  }

  /**
   * Power loss. With `loseUnsynced`, a random prefix of the unsynced writes
   * reaches the platter and the rest is lost; otherwise all of it survives
   * (a crash of the process, not of the machine). The page cache is rebuilt
   * from the platter.
   */
  crash(random: Random, loseUnsynced: boolean): void {
    const kept = loseUnsynced
      ? random.integerBetween(0, this.unsynced.length)
      : this.unsynced.length;
    for (const write of this.unsynced.slice(0, kept)) this.applyTo(this.durable, write, true);
    this.unsynced = [];
    this.view = copyStorage(this.durable);
  }

  private write(write: DiskWrite): void {
    this.applyTo(this.view, write, false);
    this.unsynced.push(write);
  }

  private applyTo(storage: MemoryStorage, write: DiskWrite, durable: boolean): void {
    switch (write.kind) {
      case "hardState":
        storage.setHardState(
          durable && this.options.forgetVote ? { ...write.hardState, vote: null } : write.hardState,
        );
        return;
      case "entries":
        storage.append(write.entries);
        return;
      case "snapshot":
        storage.applySnapshot(write.snapshot);
        return;
    }
  }
}

function copyStorage(source: MemoryStorage): NodeStorage {
  const copy = new NodeStorage();
  copy.applySnapshot(source.snapshot());
  const first = source.firstIndex();
  const last = source.lastIndex();
  if (last >= first) {
    copy.append(source.entries(first, last + 1, Number.POSITIVE_INFINITY));
  }
  copy.setHardState(source.initialState().hardState);
  return copy;
}
