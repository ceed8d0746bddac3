/**
 * Raft's safety properties (paper Figure 3), checked online as the nodes
 * handle their Readies. The monitor is the omniscient observer: it sees every
 * node's writes, commits and applies, and keeps the one history they must
 * all agree with.
 *
 *  - Election safety: at most one leader per term. A node is known to lead a
 *    term when its Ready says so, or when it sends what only a leader sends.
 *    Beneath it, each node grants at most one vote per term (Figure 2's
 *    votedFor), checked on the vote responses it sends.
 *  - Log matching: two entries with the same index and term have the same
 *    payload and the same predecessor term (by induction, the logs up to them
 *    are identical).
 *  - Committed entries never change: no node replaces a committed entry it
 *    holds, and every node commits the same entry at each index.
 *  - Leader completeness: a leader of term T holds every entry committed in
 *    an earlier term.
 *  - State machine safety: every node applies the same entry at each index,
 *    in order without gaps, and reaches the same digest there.
 *  - Durable commit (checked by each simulated node, which sees the disks):
 *    a leader's commit index only covers what a majority of each voter set
 *    holds on its platter.
 */
import type { Entry, LogIndex, Message, NodeId, Snapshot, Term } from "../index.ts";
import { entryContent } from "./command.ts";
import type { NodeStorage } from "./disk.ts";

export type Invariant =
  | "election safety"
  | "log matching"
  | "committed entry changed"
  | "leader completeness"
  | "state machine safety"
  | "durable commit"
  | "core assertion"
  | "liveness"
  | "linearizability"
  | "event budget";

/** A broken property: thrown out of the scheduler, it ends the run as a failure. */
export class SafetyViolation extends Error {
  override readonly name = "SafetyViolation";
  constructor(
    readonly invariant: Invariant,
    message: string,
  ) {
    super(message);
  }
}

interface CommittedEntry {
  readonly term: Term;
  /** Unknown when the commit was learned from a snapshot. */
  content: string | undefined;
  /** The term of the node that first reported it committed. */
  readonly knownInTerm: Term;
}

interface LoggedEntry {
  readonly content: string;
  readonly previousTerm: Term | undefined;
}

export class SafetyMonitor {
  private readonly leaders = new Map<Term, NodeId>();
  /** Whom each voter voted for, by term, then voter. */
  private readonly votes = new Map<Term, Map<NodeId, NodeId>>();
  /** What each (index, term) holds, by index, then term: checked for every entry written. */
  private readonly logged = new Map<LogIndex, Map<Term, LoggedEntry>>();
  private readonly committed: CommittedEntry[] = [];
  private readonly applied: string[] = [];
  private readonly digests: number[] = [];
  /** Terms that elected a leader, for statistics. */
  leaderTerms = 0;

  constructor(private readonly note: (text: string) => void) {}

  /** The highest index known committed (0 before the first commit). */
  get committedIndex(): LogIndex {
    return Math.max(0, this.committed.length - 1);
  }

  /** The highest index some node has applied. */
  get appliedIndex(): LogIndex {
    return this.applied.length - 1;
  }

  recordLeader(term: Term, id: NodeId): void {
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, id);
      this.leaderTerms += 1;
      this.note(`${id} leads term ${term}`);
      return;
    }
    if (known !== id) {
      throw new SafetyViolation(
        "election safety",
        `term ${term} has two leaders: ${known} and ${id}`,
      );
    }
  }

  /** Messages only a leader of their term sends, and votes (one per voter and term). */
  recordMessages(messages: readonly Message[]): void {
    for (const message of messages) {
      switch (message.type) {
        case "voteResponse":
          if (!message.reject) this.recordVote(message.term, message.from, message.to);
          break;
        case "append":
        case "heartbeat":
        case "snapshot":
        case "timeoutNow":
          this.recordLeader(message.term, message.from);
          break;
        default:
          break;
      }
    }
  }

  private recordVote(term: Term, voter: NodeId, candidate: NodeId): void {
    let votesOfTerm = this.votes.get(term);
    if (votesOfTerm === undefined) {
      votesOfTerm = new Map();
      this.votes.set(term, votesOfTerm);
    }
    const known = votesOfTerm.get(voter);
    if (known === undefined) {
      votesOfTerm.set(voter, candidate);
    } else if (known !== candidate) {
      throw new SafetyViolation(
        "election safety",
        `${voter} voted for ${known} and for ${candidate} in term ${term}`,
      );
    }
  }

  /** `entries` were just written to `id`'s log, which `storage` now holds. */
  recordAppend(id: NodeId, entries: readonly Entry[], storage: NodeStorage): void {
    for (const entry of entries) {
      const content = entryContent(entry);
      const previousTerm = termOf(storage, entry.index - 1);
      let atIndex = this.logged.get(entry.index);
      if (atIndex === undefined) {
        atIndex = new Map();
        this.logged.set(entry.index, atIndex);
      }
      const known = atIndex.get(entry.term);
      if (known === undefined) {
        atIndex.set(entry.term, { content, previousTerm });
      } else if (
        known.content !== content ||
        (known.previousTerm !== undefined &&
          previousTerm !== undefined &&
          known.previousTerm !== previousTerm)
      ) {
        throw new SafetyViolation(
          "log matching",
          `${id} holds ${entry.index}/${entry.term} "${content}" after term ${previousTerm}, another node "${known.content}" after term ${known.previousTerm}`,
        );
      }
    }
  }

  /**
   * `entries` are about to be written to `id`'s log (still as `storage`
   * holds it). A node may write anything where it lacks a committed entry
   * (a stale leader appends at indexes a newer leader already committed),
   * but must never replace a committed entry it holds.
   */
  checkNoCommittedEntryReplaced(id: NodeId, entries: readonly Entry[], storage: NodeStorage): void {
    for (const entry of entries) {
      const committed = this.committed[entry.index];
      if (committed === undefined || committed.term === entry.term) continue;
      if (termOf(storage, entry.index) === committed.term) {
        throw new SafetyViolation(
          "committed entry changed",
          `${id} replaced committed entry ${entry.index} (term ${committed.term}) with one of term ${entry.term}`,
        );
      }
    }
  }

  /** `id` (in `term`) reports its commit index moved from `from` to `to`. */
  recordCommit(id: NodeId, term: Term, from: LogIndex, to: LogIndex, storage: NodeStorage): void {
    const first = Math.max(from + 1, storage.firstIndex());
    for (let index = first; index <= to; index++) {
      const entry = storage.entries(index, index + 1, Number.POSITIVE_INFINITY)[0];
      if (entry === undefined) {
        throw new SafetyViolation("committed entry changed", `${id} committed ${index} it lacks`);
      }
      this.checkCommitted(id, index, entry.term, entryContent(entry), term);
    }
  }

  /** A snapshot at (index, term) is committed by definition. */
  recordSnapshot(id: NodeId, snapshot: Snapshot, term: Term, digest: number): void {
    const { index } = snapshot.metadata;
    this.checkCommitted(id, index, snapshot.metadata.term, undefined, term);
    this.checkDigest(id, index, digest);
  }

  private checkCommitted(
    id: NodeId,
    index: LogIndex,
    entryTerm: Term,
    content: string | undefined,
    reporterTerm: Term,
  ): void {
    const known = this.committed[index];
    if (known === undefined) {
      // Fill the gap below, if any, so `committed` stays dense.
      for (let gap = this.committed.length; gap < index; gap++) {
        this.committed[gap] ??= { term: -1, content: undefined, knownInTerm: reporterTerm };
      }
      this.committed[index] = { term: entryTerm, content, knownInTerm: reporterTerm };
      return;
    }
    if (known.term === -1) {
      const knownInTerm = Math.min(known.knownInTerm, reporterTerm);
      this.committed[index] = { term: entryTerm, content, knownInTerm };
      return;
    }
    if (
      known.term !== entryTerm ||
      (content !== undefined && known.content !== undefined && known.content !== content)
    ) {
      throw new SafetyViolation(
        "committed entry changed",
        `${id} committed ${index} as term ${entryTerm} "${content ?? "?"}", but term ${known.term} "${known.content ?? "?"}" was committed there`,
      );
    }
    known.content ??= content;
  }

  /** `id` just became leader of `term` with the log `storage` holds. */
  checkLeaderCompleteness(id: NodeId, term: Term, storage: NodeStorage): void {
    const snapshotIndex = storage.firstIndex() - 1;
    for (let index = 1; index < this.committed.length; index++) {
      const known = this.committed[index];
      if (known === undefined || known.term === -1 || known.knownInTerm >= term) continue;
      // Compacted entries are covered by a snapshot, checked when it was installed.
      if (index < snapshotIndex) continue;
      const ours = termOf(storage, index);
      if (ours !== known.term) {
        throw new SafetyViolation(
          "leader completeness",
          `${id} leads term ${term} without committed entry ${index} (term ${known.term}; it holds ${ours === undefined ? "nothing" : `term ${ours}`})`,
        );
      }
    }
  }

  /** `id` applied `entry` and its state machine's digest is now `digest`. */
  recordApply(id: NodeId, entry: Entry, digest: number): void {
    const content = entryContent(entry);
    const known = this.applied[entry.index];
    if (known === undefined) {
      this.applied[entry.index] = content;
    } else if (known !== content) {
      throw new SafetyViolation(
        "state machine safety",
        `${id} applied "${content}" at ${entry.index}, another node applied "${known}"`,
      );
    }
    this.checkCommitted(id, entry.index, entry.term, content, Number.POSITIVE_INFINITY);
    this.checkDigest(id, entry.index, digest);
  }

  private checkDigest(id: NodeId, index: LogIndex, digest: number): void {
    const known = this.digests[index];
    if (known === undefined) {
      this.digests[index] = digest;
    } else if (known !== digest) {
      throw new SafetyViolation(
        "state machine safety",
        `${id} reached digest ${digest} at ${index}, another node ${known}`,
      );
    }
  }
}

function termOf(storage: NodeStorage, index: LogIndex): Term | undefined {
  if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
  return storage.term(index);
}
