/**
 * The part of the log not yet known to be in Storage: new entries (and
 * possibly a snapshot from the leader) waiting to be handed to the caller in
 * a Ready, and then, until `advance()`, entries the caller is writing.
 *
 * entries[i] has index offset + i. `offset` may be at or below the last
 * stored index: the next write then replaces the stored tail.
 */
import { fail } from "../assert.ts";
import type { Entry, LogIndex, Snapshot, Term } from "../types.ts";

export class UnstableLog {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: LogIndex;
  /** True once the snapshot was handed out in a Ready. */
  snapshotInProgress = false;
  /** entries below this index were handed out in a Ready and are being written. */
  offsetInProgress: LogIndex;

  constructor(offset: LogIndex) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The first index, if a snapshot is pending (it replaces the whole log). */
  maybeFirstIndex(): LogIndex | undefined {
    return this.snapshot === null ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): LogIndex | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(index: LogIndex): Term | undefined {
    if (index < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === index) {
        return this.snapshot.metadata.term;
      }
      return undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** Entries not yet handed out in a Ready. */
  nextEntries(): readonly Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    return inProgress >= this.entries.length ? [] : this.entries.slice(inProgress);
  }

  nextSnapshot(): Snapshot | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Marks everything currently here as handed out in a Ready. */
  acceptInProgress(): void {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined) this.offsetInProgress = last.index + 1;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /**
   * Marks entries up to (index, term) as written. Ignored if that entry has
   * since been replaced by a different term: the write that completed was
   * for entries that no longer exist here, and the replacement is still pending.
   */
  stableTo(index: LogIndex, term: Term): void {
    if (index < this.offset) return;
    if (this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapshotTo(index: LogIndex): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Appends entries, truncating any unstable entries at or after the first new index. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const from = first.index;
    if (from === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (from <= this.offset) {
      // Replaces everything unstable (and a stored tail, which the next
      // write truncates).
      this.entries = [...entries];
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      this.entries = this.entries.slice(0, from - this.offset).concat(entries);
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** The unstable entries in [low, high), which must all be held here. */
  slice(low: LogIndex, high: LogIndex): Entry[] {
    if (!(low <= high && low >= this.offset && high <= this.offset + this.entries.length))
      fail(
        `unstable slice [${low}, ${high}) out of [${this.offset}, ${this.offset + this.entries.length})`,
      );
    return this.entries.slice(low - this.offset, high - this.offset);
  }
}
