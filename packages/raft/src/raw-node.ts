/**
 * RawNode: the public face of the Raft core, in the shape of etcd's RawNode.
 * Pure and synchronous: the caller feeds it ticks, messages and requests,
 * and collects the resulting work with `ready()` / `advance()`. The caller's
 * loop and its ordering rules are described in README.md ("The caller's loop").
 */
import { assert, fail } from "./assert.ts";
import type { RaftConfig } from "./core/config.ts";
import { hup } from "./core/election.ts";
import { applyConfChange } from "./core/membership.ts";
import { appliedTo, type ProposeResult, payloadBytesOf, propose } from "./core/proposal.ts";
import { peerLivenessChanged, wake } from "./core/quiesce.ts";
import { Raft } from "./core/raft.ts";
import { type ReadIndexResult, readIndex } from "./core/read-index.ts";
import {
  reportSnapshot,
  reportUnreachable,
  type SnapshotStatus,
  transferLeadership,
} from "./core/step-leader.ts";
import { isResponseMessage, type Message } from "./message.ts";
import type { ProgressState } from "./tracker/progress.ts";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  hardStatesEqual,
  type LogIndex,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
  softStatesEqual,
  type Term,
} from "./types.ts";

/**
 * The work the caller must do, in order (see README): send `earlyMessages`
 * (optional: they may also go with `messages`); persist `snapshot`,
 * `entries` and `hardState`; then send `messages`; then apply `snapshot` and
 * `committedEntries`; then call `advance()`.
 */
export interface Ready {
  /** Present when the soft state changed (for the caller's information; never persisted). */
  readonly softState: SoftState | null;
  /** Present when the hard state changed; persist it. */
  readonly hardState: HardState | null;
  /** Answers to ReadIndex requests; a read is served once `applied >= index`. */
  readonly readStates: readonly ReadState[];
  /** Entries to append to storage, replacing any stored entries at the same or later indexes. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader to install in storage and the state machine. */
  readonly snapshot: Snapshot | null;
  /** Committed entries to apply, in order. Call `applyConfChange` for each conf change entry. */
  readonly committedEntries: readonly Entry[];
  /**
   * Messages that may be sent at once, before or while this Ready is
   * persisted (or, like any message, later). They vouch for nothing this
   * Ready writes: the leader's appends and heartbeats, requests. Empty when
   * this Ready changes the term or vote or carries a snapshot; then every
   * message waits in `messages`.
   */
  readonly earlyMessages: readonly Message[];
  /** Messages to send only once the above is persisted (and synced if `mustSync`). */
  readonly messages: readonly Message[];
  /** Whether the write must be synced to disk before sending (term, vote, entries or snapshot changed). */
  readonly mustSync: boolean;
}

export interface ProgressStatus {
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly paused: boolean;
  readonly pendingSnapshot: LogIndex;
  readonly inflightMessages: number;
}

export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: LogIndex;
  readonly lastIndex: LogIndex;
  readonly leadTransferee: NodeId | null;
  readonly config: ConfState;
  /** The leader's view of every member; null on other nodes. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}

/** What `advance()` must do for the Ready most recently handed out. */
interface PendingAdvance {
  readonly selfMessages: readonly Message[];
  readonly stable: {
    readonly index: LogIndex;
    readonly term: Term;
    readonly acceptedTerm: Term;
  } | null;
  readonly snapshotIndex: LogIndex | null;
  readonly applied: { readonly index: LogIndex; readonly payloadBytes: number } | null;
}

export class RawNode {
  private readonly raft: Raft;
  private previousSoftState: SoftState;
  private previousHardState: HardState;
  private pending: PendingAdvance | null = null;

  /**
   * Starts (or restarts) a node from what its storage holds. A brand new
   * group is bootstrapped by giving its storage a snapshot whose ConfState
   * lists the initial voters; a node joining an existing group starts with
   * empty storage and waits for the leader's snapshot.
   */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.previousSoftState = this.raft.softState();
    this.previousHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick. No-op while quiesced. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (PreVote first, if enabled). */
  campaign(): void {
    wake(this.raft, "localRequest");
    hup(this.raft, "election");
  }

  /** Proposes application data. See ProposeResult for what the answer promises. */
  propose(data: Uint8Array): ProposeResult {
    wake(this.raft, "localRequest");
    return propose(this.raft, { type: "normal", data });
  }

  /** Proposes a configuration change (at most one may be pending). */
  proposeConfChange(change: ConfChange): ProposeResult {
    wake(this.raft, "localRequest");
    return propose(this.raft, { type: "confChange", change });
  }

  /**
   * Applies a committed configuration change: call it for every committed
   * conf change entry, in log order, when applying it. Returns the new
   * configuration (to store with the next snapshot).
   */
  applyConfChange(change: ConfChange): ConfState {
    return applyConfChange(this.raft, change);
  }

  /**
   * Handles a message from a peer. Messages for another node, and responses
   * from nodes outside the configuration, are dropped.
   */
  step(message: Message): void {
    if (message.to !== this.raft.id) fail(`message for ${message.to} stepped on ${this.raft.id}`);
    if (isResponseMessage(message) && !this.raft.tracker.progress.has(message.from)) {
      this.raft.logger.debug(
        `${this.raft.id} dropped ${message.type} from unknown peer ${message.from}`,
      );
      return;
    }
    this.raft.step(message);
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState with `context`. */
  readIndex(context: Uint8Array): ReadIndexResult {
    wake(this.raft, "localRequest");
    return readIndex(this.raft, context);
  }

  /** Asks the leader to hand leadership to `transferee` (forwarded if this node is a follower). */
  transferLeadership(transferee: NodeId): void {
    wake(this.raft, "localRequest");
    const raft = this.raft;
    if (raft.role === "leader") {
      transferLeadership(raft, transferee);
    } else if (raft.role === "follower" && raft.lead !== null) {
      raft.send({ type: "transferLeader", from: raft.id, to: raft.lead, term: 0, transferee });
    } else {
      raft.logger.info(
        `${raft.id} no leader at term ${raft.term}; dropping leader transfer request`,
      );
    }
  }

  /** Reports that the last message to `id` could not be delivered. */
  reportUnreachable(id: NodeId): void {
    reportUnreachable(this.raft, id);
  }

  /** Reports how sending a snapshot to `id` ended (call after every snapshot message). */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    reportSnapshot(this.raft, id, status);
  }

  /**
   * Reports that the caller's transport considers `id` reachable or not.
   * Wakes a quiesced group only if the change matters to it (README,
   * "Quiescence"), and keeps a node that cannot reach a quorum from
   * campaigning.
   */
  peerLivenessChanged(id: NodeId, alive: boolean): void {
    peerLivenessChanged(this.raft, id, alive);
  }

  /** True while quiesced: ticks are no-ops, so the caller may stop ticking. */
  isQuiesced(): boolean {
    return this.raft.quiesced;
  }

  hasReady(): boolean {
    const raft = this.raft;
    const log = raft.raftLog;
    return (
      !softStatesEqual(raft.softState(), this.previousSoftState) ||
      !hardStatesEqual(raft.hardState(), this.previousHardState) ||
      log.nextUnstableSnapshot() !== null ||
      raft.messages.length > 0 ||
      raft.messagesAfterAppend.length > 0 ||
      log.hasNextUnstableEntries() ||
      log.hasNextCommittedEntries() ||
      raft.readStates.length > 0
    );
  }

  /**
   * Returns the outstanding work and marks it handed out. Must be followed
   * by `advance()` before the next `ready()`.
   */
  ready(): Ready {
    assert(this.pending === null, "ready() called twice without advance()");
    const raft = this.raft;
    const log = raft.raftLog;
    const softState = raft.softState();
    const hardState = raft.hardState();
    const entries = log.nextUnstableEntries();
    const committedEntries = log.nextCommittedEntries();
    const snapshot = log.nextUnstableSnapshot();
    // A new term or vote must be durable before anyone hears of it (a
    // candidate that won without its own vote, then lost the vote in a
    // crash, could lead the same term twice). Otherwise the leader's
    // appends may leave before its own write is durable (thesis §10.2.1):
    // its acknowledgement of its own entries is stepped only on advance().
    const holdAll =
      snapshot !== null ||
      hardState.term !== this.previousHardState.term ||
      hardState.vote !== this.previousHardState.vote;
    const earlyMessages: Message[] = holdAll ? [] : raft.messages;
    const messages: Message[] = holdAll ? raft.messages : [];
    const selfMessages: Message[] = [];
    for (const message of raft.messagesAfterAppend) {
      (message.to === raft.id ? selfMessages : messages).push(message);
    }
    const ready: Ready = {
      softState: softStatesEqual(softState, this.previousSoftState) ? null : softState,
      hardState: hardStatesEqual(hardState, this.previousHardState) ? null : hardState,
      readStates: raft.readStates,
      entries,
      snapshot,
      committedEntries,
      earlyMessages,
      messages,
      // A snapshot counts too: the acknowledgement sent with it vouches for it.
      mustSync:
        entries.length > 0 ||
        snapshot !== null ||
        hardState.term !== this.previousHardState.term ||
        hardState.vote !== this.previousHardState.vote,
    };

    this.previousSoftState = softState;
    this.previousHardState = hardState;
    raft.readStates = [];
    raft.messages = [];
    raft.messagesAfterAppend = [];
    const last = log.hasNextOrInProgressUnstableEntries() ? log.lastEntryId() : null;
    const lastCommitted = committedEntries[committedEntries.length - 1];
    this.pending = {
      selfMessages,
      stable: last === null ? null : { ...last, acceptedTerm: raft.term },
      snapshotIndex: ready.snapshot?.metadata.index ?? null,
      applied:
        lastCommitted === undefined
          ? null
          : { index: lastCommitted.index, payloadBytes: payloadBytesOf(committedEntries) },
    };
    log.acceptUnstable();
    if (lastCommitted !== undefined) log.acceptApplying(lastCommitted.index);
    return ready;
  }

  /**
   * Tells the node the last Ready was handled: persisted, sent and applied.
   * Steps the node's own acknowledgements, which count only now that the
   * entries and votes they vouch for are durable.
   */
  advance(): void {
    const pending = this.pending;
    assert(pending !== null, "advance() without a preceding ready()");
    this.pending = null;
    const raft = this.raft;
    for (const message of pending.selfMessages) raft.step(message);
    // If the term changed since the Ready was handed out, a newer leader may
    // have replaced those entries in the unstable log: a later Ready
    // confirms them instead (etcd's ABA guard).
    if (pending.stable !== null && pending.stable.acceptedTerm === raft.term) {
      raft.raftLog.stableTo(pending.stable);
    }
    if (pending.snapshotIndex !== null) {
      raft.raftLog.stableSnapshotTo(pending.snapshotIndex);
      appliedTo(raft, pending.snapshotIndex, 0);
    }
    if (pending.applied !== null) {
      appliedTo(raft, pending.applied.index, pending.applied.payloadBytes);
    }
  }

  status(): Status {
    const raft = this.raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (raft.role === "leader") {
      progress = new Map();
      for (const [id, p] of raft.tracker.progress) {
        progress.set(id, {
          match: p.match,
          next: p.next,
          state: p.state,
          isLearner: p.isLearner,
          recentActive: p.recentActive,
          paused: p.isPaused(),
          pendingSnapshot: p.pendingSnapshot,
          inflightMessages: p.inflights.messageCount,
        });
      }
    }
    return {
      id: raft.id,
      hardState: raft.hardState(),
      softState: raft.softState(),
      applied: raft.raftLog.applied,
      lastIndex: raft.raftLog.lastIndex(),
      leadTransferee: raft.leadTransferee,
      config: raft.tracker.confState(),
      progress,
    };
  }

  /** The leader's per-follower progress, one line per member (for transcripts and debugging). */
  describeProgress(): string {
    return this.raft.tracker.describeProgress();
  }
}
