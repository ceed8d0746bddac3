/**
 * The replicated log as the core sees it: what Storage holds, followed by the
 * unstable tail, plus the commit and apply positions.
 *
 * Invariants: applied <= applying <= committed <= lastIndex, and committed
 * never decreases (an entry, once committed, is never overwritten).
 */
import { assert, fail } from "../assert.ts";
import { isStorageError, type Storage } from "../storage/storage.ts";
import {
  type Entry,
  type LogIndex,
  limitEntriesBytes,
  type Snapshot,
  type Term,
} from "../types.ts";
import { UnstableLog } from "./unstable.ts";

export interface EntryId {
  readonly index: LogIndex;
  readonly term: Term;
}

export class RaftLog {
  readonly unstable: UnstableLog;
  /** The highest index known to be stored on a quorum. */
  committed: LogIndex;
  /** The highest index handed to the caller for applying. */
  applying: LogIndex;
  /** The highest index the caller has applied. */
  applied: LogIndex;

  constructor(
    readonly storage: Storage,
    /** Bound on the committed entries handed out in one Ready. */
    private readonly committedEntriesBytesMax: number,
  ) {
    const firstIndex = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  describe(): string {
    return `committed=${this.committed} applied=${this.applied} applying=${this.applying} unstable.offset=${this.unstable.offset} unstable.entries=${this.unstable.entries.length}`;
  }

  /**
   * Appends the leader's entries that follow (prevIndex, prevTerm), if that
   * entry matches ours (the Log Matching check of AppendEntries). Returns the
   * index of the last entry the message vouches for, or undefined on mismatch.
   */
  maybeAppend(
    prev: EntryId,
    entries: readonly Entry[],
    leaderCommit: LogIndex,
  ): LogIndex | undefined {
    if (!this.matchTerm(prev.index, prev.term)) return undefined;
    const lastNewIndex = prev.index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) fail(`entry ${conflict} conflicts with committed entry`);
      this.append(entries.slice(conflict - (prev.index + 1)));
    }
    // Only what this message proves we share with the leader may be committed.
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  append(entries: readonly Entry[]): LogIndex {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed)
      fail(`appending at ${first.index} would overwrite committed entries`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that is new or conflicts (same index,
   * different term) with ours; 0 if we already hold all of them.
   */
  findConflict(entries: readonly Entry[]): LogIndex {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Our best guess of where our log last matches another log that has `term`
   * at `index`: the largest index <= `index` whose term is <= `term` (or
   * whose term we no longer know). Lets a rejection skip a whole term.
   */
  findConflictByTerm(index: LogIndex, term: Term): EntryId {
    for (let candidate = index; candidate > 0; candidate--) {
      const ours = this.term(candidate);
      if (ours === undefined) return { index: candidate, term: 0 };
      if (ours <= term) return { index: candidate, term: ours };
    }
    return { index: 0, term: 0 };
  }

  nextUnstableEntries(): readonly Entry[] {
    return this.unstable.nextEntries();
  }

  hasNextUnstableEntries(): boolean {
    return this.unstable.offsetInProgress < this.unstable.offset + this.unstable.entries.length;
  }

  hasNextOrInProgressUnstableEntries(): boolean {
    return this.unstable.entries.length > 0;
  }

  /**
   * Committed entries not yet handed out for applying, limited in bytes.
   * Nothing while a snapshot is pending: the snapshot must be applied first.
   */
  nextCommittedEntries(): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const entries = this.slice(
      this.applying + 1,
      this.committed + 1,
      this.committedEntriesBytesMax,
    );
    assert(entries !== undefined, "unapplied committed entries are never compacted");
    return entries;
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasNextOrInProgressSnapshot() && this.applying < this.committed;
  }

  nextUnstableSnapshot(): Snapshot | null {
    return this.unstable.nextSnapshot();
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  /** The newest snapshot: one received and not yet stored, or Storage's (may throw). */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): LogIndex {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(index: LogIndex): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex())
      fail(`commit ${index} is beyond the last index ${this.lastIndex()}; was the log lost?`);
    this.committed = index;
  }

  appliedTo(index: LogIndex): void {
    if (!(index >= this.applied && index <= this.committed))
      fail(`applied ${index} out of range [${this.applied}, ${this.committed}]`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  acceptApplying(index: LogIndex): void {
    if (index > this.committed) fail(`applying ${index} beyond committed ${this.committed}`);
    this.applying = index;
  }

  stableTo(id: EntryId): void {
    this.unstable.stableTo(id.index, id.term);
  }

  stableSnapshotTo(index: LogIndex): void {
    this.unstable.stableSnapshotTo(index);
  }

  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  lastEntryId(): EntryId {
    const index = this.lastIndex();
    const term = this.term(index);
    if (term === undefined) fail(`the last entry ${index} has a term`);
    return { index, term };
  }

  /**
   * The term of the entry at `index`, or undefined if we no longer (compacted)
   * or do not yet (beyond the end) know it. The term at firstIndex - 1 is kept.
   */
  term(index: LogIndex): Term | undefined {
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    if (index + 1 < this.firstIndex() || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (isStorageError(error, "compacted") || isStorageError(error, "unavailable"))
        return undefined;
      throw error;
    }
  }

  termOrZero(index: LogIndex): Term {
    return this.term(index) ?? 0;
  }

  /** Entries from `index` to the end, limited in bytes; undefined if `index` is compacted. */
  entriesFrom(index: LogIndex, bytesMax: number): readonly Entry[] | undefined {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, bytesMax);
  }

  /**
   * Raft §5.4.1: a log ending in (lastIndex, lastTerm) is at least as
   * up to date as ours if its last term is higher, or equal with an index at
   * least as high.
   */
  isUpToDate(candidate: EntryId): boolean {
    const ours = this.lastEntryId();
    return (
      candidate.term > ours.term || (candidate.term === ours.term && candidate.index >= ours.index)
    );
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    const ours = this.term(index);
    return ours !== undefined && ours === term;
  }

  /**
   * Commits up to `index` if the entry there is from `term` — the leader
   * passes its current term, which is the rule of Raft §5.4.2: only entries
   * of the leader's own term are committed by counting replicas.
   */
  maybeCommit(index: LogIndex, term: Term): boolean {
    if (term !== 0 && index > this.committed && this.matchTerm(index, term)) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /**
   * The entries in [low, high), limited in bytes (at least one), read from
   * Storage and the unstable tail. Undefined if `low` is compacted.
   */
  slice(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] | undefined {
    if (low > high) fail(`invalid slice [${low}, ${high})`);
    if (low < this.firstIndex()) return undefined;
    if (high > this.lastIndex() + 1)
      fail(`slice [${low}, ${high}) beyond last index ${this.lastIndex()}`);
    if (low === high) return [];
    const offset = this.unstable.offset;
    if (low >= offset) return limitEntriesBytes(this.unstable.slice(low, high), bytesMax);

    const cut = Math.min(high, offset);
    let stored: readonly Entry[];
    try {
      stored = this.storage.entries(low, cut, bytesMax);
    } catch (error) {
      if (isStorageError(error, "compacted")) return undefined;
      throw error;
    }
    if (high <= offset || stored.length < cut - low) return stored;
    const combined = limitEntriesBytes([...stored, ...this.unstable.slice(offset, high)], bytesMax);
    // limitEntriesBytes keeps at least one entry; never fewer than storage gave.
    return combined.length >= stored.length ? combined : stored;
  }
}
