/**
 * The storage contract between the Raft core and the caller's durable log.
 *
 * The core only reads through this interface; the caller writes (appends
 * entries, saves the hard state, installs snapshots, compacts) while handling
 * a Ready, before calling `advance()`. `MemoryStorage` is the reference
 * implementation; a durable one must pass the same contract tests
 * (storage-contract.ts).
 *
 * The log held by a storage is a contiguous range of entries
 * [firstIndex, lastIndex], preceded by a snapshot covering everything up to
 * firstIndex - 1. The term of the entry at firstIndex - 1 (the snapshot's
 * last entry) stays available so appends right after it can be checked.
 * An empty storage has firstIndex 1, lastIndex 0 and term(0) = 0.
 *
 * All methods are synchronous: the core consults storage in the middle of
 * handling a message. A storage backed by a remote database keeps the tail
 * of the log (the part Raft reads) cached in memory.
 *
 * Errors: the methods throw `StorageError` with one of the named codes below
 * when the condition is an expected one; any other exception is treated as
 * fatal (the core does not catch it).
 */
import type { ConfState, Entry, HardState, LogIndex, Snapshot, Term } from "../types.ts";

export type StorageErrorCode =
  /** The requested index is before firstIndex - 1: it was compacted into the snapshot. */
  | "compacted"
  /** The requested index is after lastIndex. */
  | "unavailable"
  /** `createSnapshot` or `applySnapshot` was given a snapshot older than the current one. */
  | "snapshotOutOfDate"
  /** A snapshot is being prepared; the core retries later (at the next heartbeat response). */
  | "snapshotTemporarilyUnavailable";

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isStorageError(error: unknown, code: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && error.code === code;
}

export interface InitialState {
  /** The last saved hard state (EMPTY_HARD_STATE if none was ever saved). */
  readonly hardState: HardState;
  /**
   * The configuration as of the index the node restarts from: the snapshot's
   * (EMPTY_CONF_STATE if none) when the caller restarts with `applied` at the
   * snapshot index and lets the core hand out the committed entries after it
   * again. A caller that restarts with `applied` beyond the snapshot must
   * return the configuration as of `applied` instead: the core will not see
   * the configuration changes up to `applied` again.
   */
  readonly confState: ConfState;
}

export interface Storage {
  /** Called once, when a node starts. */
  initialState(): InitialState;

  /**
   * The entries in [low, high), in order, with their total size (see
   * `entryBytes`) limited to `bytesMax` — but at least one entry if the range
   * is not empty, so one large entry cannot block the log.
   *
   * The caller owns the returned array (it may keep or extend it); the entries
   * themselves are shared and must never be mutated by anyone.
   *
   * Throws "compacted" if low < firstIndex. high must be at most
   * lastIndex + 1 (asking beyond is a programmer error).
   */
  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[];

  /**
   * The term of the entry at `index`, for index in [firstIndex - 1, lastIndex].
   * Throws "compacted" below that range and "unavailable" above it.
   */
  term(index: LogIndex): Term;

  /** The index of the first entry available through `entries` (snapshot index + 1). */
  firstIndex(): LogIndex;

  /** The index of the last entry (firstIndex - 1 if the log holds no entries). */
  lastIndex(): LogIndex;

  /**
   * The most recent snapshot. Throws "snapshotTemporarilyUnavailable" if one
   * is being prepared; the core then tries again later. The returned object
   * is shared and must not be mutated.
   */
  snapshot(): Snapshot;
}

/**
 * The write side the caller uses while handling a Ready. The core never calls
 * these; they are listed so every implementation (memory, SQLite,
 * PostgreSQL) offers the same operations and passes the same contract tests.
 */
export interface WritableStorage extends Storage {
  /** Saves the hard state (durably, before messages of the same Ready are sent). */
  setHardState(hardState: HardState): void;
  /** Appends entries, replacing any stored entries at the same or later indexes. */
  append(entries: readonly Entry[]): void;
  /** Replaces the whole log with a snapshot; throws "snapshotOutOfDate" if not newer. */
  applySnapshot(snapshot: Snapshot): void;
  /** Records a snapshot of applied state at `index`; throws "snapshotOutOfDate" if not newer. */
  createSnapshot(index: LogIndex, confState: ConfState, data: Uint8Array): Snapshot;
  /** Drops entries up to `index` (covered by the snapshot); throws "compacted" if already gone. */
  compact(index: LogIndex): void;
}
