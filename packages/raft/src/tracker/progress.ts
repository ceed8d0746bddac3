/**
 * A follower's replication progress as the leader sees it (etcd's
 * tracker/progress.go; its design.md has the state diagram):
 *
 *  - probe: the leader does not know where the follower's log ends. It sends
 *    at most one append per heartbeat interval and waits for the answer.
 *  - replicate: the follower is known to be in sync. The leader streams
 *    appends optimistically (advancing `next` as it sends), bounded by the
 *    in-flight window: this is pipelining.
 *  - snapshot: the follower needs a snapshot; appends pause until it has
 *    been applied (or reported failed).
 */
import { assert } from "../assert.ts";
import type { LogIndex } from "../types.ts";
import { Inflights } from "./inflights.ts";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** The highest index known to match the leader's log. */
  match: LogIndex;
  /** The next index to send. Invariant: match < next. */
  next: LogIndex;
  state: ProgressState = "probe";
  /** In snapshot state, the index of the snapshot that was sent. */
  pendingSnapshot: LogIndex = 0;
  /**
   * True if the follower was heard from since the last CheckQuorum round.
   * New peers start active so CheckQuorum gives them one round to answer.
   */
  recentActive = true;
  /** Throttles probes, and a replicate flow whose window is full, until the next heartbeat response. */
  flowPaused = false;
  /** The highest commit index already sent to the follower. */
  sentCommit: LogIndex = 0;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(options: {
    match: LogIndex;
    next: LogIndex;
    isLearner: boolean;
    inflightMessagesMax: number;
    inflightBytesMax: number;
  }) {
    assert(options.match < options.next, "progress requires match < next");
    this.match = options.match;
    this.next = options.next;
    this.isLearner = options.isLearner;
    this.inflights = new Inflights(options.inflightMessagesMax, options.inflightBytesMax);
  }

  private resetState(state: ProgressState): void {
    this.flowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Back to probing from match + 1 (or just past a snapshot the follower received). */
  becomeProbe(): void {
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    this.sentCommit = snapshotIndex;
  }

  /** Accounts for an append carrying `entryCount` entries (`bytes` in total) starting at `next`. */
  sentEntries(entryCount: number, bytes: number): void {
    switch (this.state) {
      case "replicate":
        if (entryCount > 0) {
          this.next += entryCount;
          this.inflights.add(this.next - 1, bytes);
        }
        this.flowPaused = this.inflights.full();
        return;
      case "probe":
        if (entryCount > 0) this.flowPaused = true;
        return;
      case "snapshot":
        assert(false, "no appends are sent while a snapshot is pending");
    }
  }

  /** Whether sending `commit` could move the follower's commit index forward. */
  canBumpCommit(commit: LogIndex): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** Handles a successful append response; false if it was stale. */
  maybeUpdate(index: LogIndex): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.flowPaused = false;
    return true;
  }

  /**
   * Handles a rejected append of `rejected` (its prevIndex) with the
   * follower's hint. False if the rejection is stale (duplicated or reordered).
   */
  maybeDecreaseTo(rejected: LogIndex, matchHint: LogIndex): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    // Probes go out one at a time, so a genuine rejection is for next - 1.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.flowPaused = false;
    return true;
  }

  /** Whether appends to this follower are throttled right now. */
  isPaused(): boolean {
    return this.state === "snapshot" ? true : this.flowPaused;
  }

  describe(): string {
    let text = `${this.state} match=${this.match} next=${this.next}`;
    if (this.isLearner) text += " learner";
    if (this.isPaused()) text += " paused";
    if (this.pendingSnapshot > 0) text += ` pendingSnapshot=${this.pendingSnapshot}`;
    if (!this.recentActive) text += " inactive";
    const inflight = this.inflights.messageCount;
    if (inflight > 0) text += ` inflight=${inflight}${this.inflights.full() ? "[full]" : ""}`;
    return text;
  }
}
