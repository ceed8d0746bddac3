/**
 * The Raft state machine of one node (etcd's raft.go): its persistent and
 * volatile state, role transitions, the logical clock, and the term rules
 * every incoming message goes through. The per-role behaviour lives in the
 * sibling modules (election, replication, step-leader, step-follower,
 * proposal, membership, read-index, quiesce), which operate on this object.
 *
 * Not used directly by callers: RawNode wraps it with the Ready/advance API.
 */
import { assert, fail, unreachable } from "../assert.ts";
import { configFromConfState } from "../confchange/changer.ts";
import { RaftLog } from "../log/raft-log.ts";
import type { Message } from "../message.ts";
import { ProgressTracker } from "../tracker/tracker.ts";
import {
  EMPTY_HARD_STATE,
  type Entry,
  type EntryPayload,
  entryPayloadBytes,
  type HardState,
  hardStatesEqual,
  type NodeId,
  type RaftRole,
  type ReadState,
  type SoftState,
  type Term,
} from "../types.ts";
import {
  type RaftConfig,
  type RaftLogger,
  type ResolvedRaftConfig,
  resolveConfig,
} from "./config.ts";
import { handleVoteRequest, hup } from "./election.ts";
import { switchToConfig } from "./membership.ts";
import { liveVotersFormQuorum, maybeQuiesce, wakeOnMessage } from "./quiesce.ts";
import { ReadOnlyQueue, type ReadRequest } from "./read-only.ts";
import { bcastHeartbeat } from "./replication.ts";
import { stepCandidate, stepFollower } from "./step-follower.ts";
import { checkQuorum, stepLeader } from "./step-leader.ts";
import { acceptHigherTerm, handleLowerTerm } from "./term-rules.ts";

export class Raft {
  readonly id: NodeId;
  readonly config: ResolvedRaftConfig;
  readonly logger: RaftLogger;
  readonly raftLog: RaftLog;
  readonly tracker: ProgressTracker;

  term: Term = 0;
  vote: NodeId | null = null;
  role: RaftRole = "follower";
  /** True while this node is a learner in the active configuration. */
  isLearner = false;
  lead: NodeId | null = null;
  /** The target of a leadership transfer in progress (Raft thesis §3.10). */
  leadTransferee: NodeId | null = null;
  /**
   * True while a leader that is no longer a voter hands leadership over
   * (membership.ts): it accepts no proposals and steps down if no transfer
   * completes within an election timeout.
   */
  handingOver = false;
  /**
   * A follower asked to campaign by TimeoutNow while it still had a
   * committed configuration change to apply: it campaigns once applied.
   */
  campaignWhenApplied = false;
  /**
   * No configuration change may be proposed until `applied` reaches this
   * index: at most one change is pending, and a new leader proposes none
   * until its first entry (of its own term) is committed and applied.
   */
  pendingConfIndex = 0;
  /** Payload bytes of the leader's uncommitted tail (an estimate that never overestimates). */
  uncommittedBytes = 0;
  readOnly = new ReadOnlyQueue();
  /** Read requests waiting for the new leader's first commit in its term. */
  pendingReadRequests: ReadRequest[] = [];
  readStates: ReadState[] = [];

  /** Ticks since the last election timeout (leader, candidate) or since hearing from the leader. */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  /** True while the group is quiet: ticks do nothing and no heartbeats flow. */
  quiesced = false;
  /** Peers the caller reported as unreachable (see `peerLivenessChanged`). */
  readonly deadPeers = new Set<NodeId>();

  /** Messages to send once this Ready's state is persisted. */
  messages: Message[] = [];
  /**
   * Responses that promise durability (append and vote responses): they go
   * out with the Ready that persists what they vouch for. Those addressed to
   * this node (the leader's own acknowledgement, a candidate's own vote) are
   * stepped on `advance()`, after the caller has persisted.
   */
  messagesAfterAppend: Message[] = [];

  constructor(config: RaftConfig) {
    this.config = resolveConfig(config);
    this.id = this.config.id;
    this.logger = this.config.logger;
    this.raftLog = new RaftLog(this.config.storage, this.config.committedEntriesPerReadyBytesMax);
    this.tracker = new ProgressTracker(
      this.config.inflightMessagesMax,
      this.config.inflightBytesMax,
    );

    const { hardState, confState } = this.config.storage.initialState();
    switchToConfig(this, configFromConfState(confState));
    // A never-saved hard state leaves the commit index at the snapshot.
    if (!hardStatesEqual(hardState, EMPTY_HARD_STATE)) this.loadHardState(hardState);
    if (this.config.applied > 0) this.raftLog.appliedTo(this.config.applied);
    this.becomeFollower(this.term, null);
    const last = this.raftLog.lastEntryId();
    this.logger.info(
      `newRaft ${this.id} [peers: [${[...this.tracker.config.voters.incoming].sort().join(",")}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${last.index}, lastterm: ${last.term}]`,
    );
  }

  private loadHardState(state: HardState): void {
    // A commit index beyond the stored log means entries it vouched for were lost.
    if (state.commit > this.raftLog.lastIndex())
      fail(`stored commit ${state.commit} is beyond the last index ${this.raftLog.lastIndex()}`);
    // One below the snapshot is only stale: a crash kept a snapshot but not
    // the hard state written after it. The commit index is a hint (Raft
    // needs none on disk) and the snapshot is committed by definition.
    this.raftLog.committed = Math.max(state.commit, this.raftLog.committed);
    this.term = state.term;
    this.vote = state.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role, quiesced: this.quiesced };
  }

  /** Queues a message; see `messagesAfterAppend` for which wait for persistence. */
  send(message: Message): void {
    switch (message.type) {
      case "appendResponse":
      case "voteResponse":
      case "preVoteResponse":
        this.messagesAfterAppend.push(message);
        return;
      default:
        if (message.to === this.id) fail(`${message.type} must not be addressed to self`);
        this.messages.push(message);
    }
  }

  /** Whether this node may become leader: a voter, not waiting for a snapshot to apply. */
  promotable(): boolean {
    const progress = this.tracker.progress.get(this.id);
    return (
      progress !== undefined && !progress.isLearner && !this.raftLog.hasNextOrInProgressSnapshot()
    );
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    const base = this.config.electionTimeoutTicks;
    this.randomizedElectionTimeout = base + this.config.random.nextInt(base);
  }

  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.handingOver = false;
    this.campaignWhenApplied = false;
    this.quiesced = false;
    this.tracker.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    this.tracker.visit((id, progress) => {
      const fresh = this.tracker.newProgress(lastIndex + 1, progress.isLearner);
      // Activity is re-learned in the new term; CheckQuorum counts from here.
      fresh.recentActive = false;
      if (id === this.id) fresh.match = lastIndex;
      this.tracker.progress.set(id, fresh);
    });
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnlyQueue();
  }

  becomeFollower(term: Term, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** Pre-candidates keep their term and vote: a PreVote changes nothing persistent. */
  becomePreCandidate(): void {
    assert(this.role !== "leader", "invalid transition [leader -> pre-candidate]");
    this.tracker.resetVotes();
    this.lead = null;
    this.quiesced = false;
    this.role = "preCandidate";
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role !== "follower", "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    const self = this.tracker.progress.get(this.id);
    assert(self !== undefined, "a leader is a member");
    self.becomeReplicate();
    self.recentActive = true;
    // Raft §5.4.2 / §8: an entry of the new term, so the leader can commit
    // (and learn the commit index of) the entries of earlier terms.
    const appended = this.appendEntry([{ type: "normal", data: new Uint8Array(0) }]);
    assert(appended, "the empty entry is never refused");
    // No configuration change until that entry is committed and applied
    // (Ongaro's fix for the single-server change bug).
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  /**
   * Appends proposals to the leader's log, unless they would push the
   * uncommitted tail over its limit. The leader acknowledges its own entries
   * only once they are persisted: the self-addressed response is stepped on
   * `advance()`.
   */
  appendEntry(payloads: readonly EntryPayload[]): boolean {
    let bytes = 0;
    for (const payload of payloads) bytes += entryPayloadBytes(payload);
    // An empty tail admits any single proposal, and empty payloads always
    // pass, so the leader's empty entry and leave-joint are never refused.
    if (
      this.uncommittedBytes > 0 &&
      bytes > 0 &&
      this.uncommittedBytes + bytes > this.config.uncommittedEntriesBytesMax
    ) {
      this.logger.warn(`${this.id} uncommitted entries would exceed the limit; dropping proposal`);
      return false;
    }
    this.uncommittedBytes += bytes;
    const first = this.raftLog.lastIndex() + 1;
    // Built field by field: spreading the payload cost 5% of a busy leader's time.
    const entries: Entry[] = payloads.map((payload, i) =>
      payload.type === "normal"
        ? { type: "normal", data: payload.data, term: this.term, index: first + i }
        : { type: "confChange", change: payload.change, term: this.term, index: first + i },
    );
    const last = this.raftLog.append(entries);
    this.send({
      type: "appendResponse",
      from: this.id,
      to: this.id,
      term: this.term,
      index: last,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    });
    return true;
  }

  reduceUncommittedBytes(bytes: number): void {
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = null;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  /** Advances the logical clock by one tick. A quiesced node ignores ticks. */
  tick(): void {
    if (this.quiesced) return;
    if (this.role === "leader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      if (!liveVotersFormQuorum(this)) {
        // We could not win: campaigning would only add load (see quiesce.ts).
        this.logger.debug(`${this.id} not campaigning: live voters do not form a quorum`);
        return;
      }
      hup(this, "election");
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) checkQuorum(this);
      if (this.role === "leader" && this.handingOver) {
        this.logger.info(`${this.id} stepping down: no longer a voter, handover did not finish`);
        this.becomeFollower(this.term, null);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === "leader" && this.leadTransferee !== null) this.abortLeaderTransfer();
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.config.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      if (!maybeQuiesce(this)) bcastHeartbeat(this);
    }
  }

  /** Handles a message from a peer: first the term rules, then the role's rules. */
  step(message: Message): void {
    if (this.quiesced) wakeOnMessage(this, message);
    if (message.term === 0) {
      // Forwarded proposals and requests are not bound to a term.
    } else if (message.term > this.term) {
      if (!acceptHigherTerm(this, message)) return;
    } else if (message.term < this.term) {
      handleLowerTerm(this, message);
      return;
    }

    switch (message.type) {
      case "vote":
      case "preVote":
        handleVoteRequest(this, message);
        return;
      default:
        switch (this.role) {
          case "leader":
            stepLeader(this, message);
            return;
          case "candidate":
          case "preCandidate":
            stepCandidate(this, message);
            return;
          case "follower":
            stepFollower(this, message);
            return;
          default:
            unreachable(this.role);
        }
    }
  }
}
