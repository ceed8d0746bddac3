/**
 * One simulated server of the group: a RawNode, its simulated disk, its
 * key-value state machine and its client service, driven by virtual time
 * and the simulated networks.
 *
 * The Ready loop follows the caller's contract (README, "The caller's
 * loop"): write the snapshot, entries and hard state; sync if the Ready says
 * so (taking `diskSyncMs` of virtual time, during which a crash loses the
 * write); only then send the messages; apply; advance. Every Ready is shown
 * to the safety monitor as it is handed out.
 */
import type { Random, SimulatedNetwork, SimulatedScheduler } from "@parley/simulation";
import {
  type ConfChangeEntry,
  ConfChangeError,
  type ConfState,
  type Entry,
  type LogIndex,
  type Message,
  type NodeId,
  type RaftLogger,
  type RaftRole,
  RawNode,
  type Ready,
  type Snapshot,
  type Term,
} from "../index.ts";
import type { ClientEnvelope } from "./client-protocol.ts";
import { ClientService } from "./client-service.ts";
import { decodeCommand } from "./command.ts";
import { SimulatedDisk } from "./disk.ts";
import { KeyValueStore } from "./key-value-store.ts";
import { type SafetyMonitor, SafetyViolation } from "./safety-monitor.ts";
import { electionTimeoutMs, type InjectedBug, type Scenario } from "./scenario.ts";

/** What the cluster learns from a node as it runs (and the fault biases hook into). */
export interface NodeEvents {
  voteGranted(node: SimulatedNode): void;
  /** Called before the new leader's first messages leave. */
  becameLeader(node: SimulatedNode): void;
  leaderCommitted(node: SimulatedNode): void;
  configurationApplied(node: SimulatedNode, index: LogIndex, confState: ConfState): void;
  markerApplied(node: SimulatedNode, marker: number, index: LogIndex): void;
  snapshotInstalled(): void;
  compacted(): void;
}

export interface NodeEnvironment {
  readonly scheduler: SimulatedScheduler;
  readonly raftNetwork: SimulatedNetwork<Message>;
  readonly clientNetwork: SimulatedNetwork<ClientEnvelope>;
  readonly monitor: SafetyMonitor;
  readonly scenario: Scenario;
  readonly bugs: ReadonlySet<InjectedBug>;
  readonly events: NodeEvents;
  readonly logger: (id: NodeId) => RaftLogger;
  /** Whether `id`'s platter holds the entry (index, term), or a snapshot covering it. */
  readonly durablyHolds: (id: NodeId, index: LogIndex, term: Term) => boolean;
  /** Whether election timeouts are drawn from a narrow range right now (a fault bias). */
  readonly tightElectionJitter: () => boolean;
}

export type NodeState = "running" | "down";

/** Readies one input may cause (a few: the Ready, then what advancing it produced). */
const readiesPerInputMax = 100;

export class SimulatedNode {
  state: NodeState = "down";
  /** Bumped at every start and crash: events of an older life are ignored. */
  private incarnation = 0;
  private rawNode: RawNode | null = null;
  private service: ClientService | null = null;
  private store = KeyValueStore.empty();
  /**
   * The configurations in force since the last Ready was observed: the core
   * may have decided that Ready's commit index under any of them (acks are
   * stepped before and after the applies that switch configuration).
   */
  private recentConfigurations: ConfState[] = [];
  private readonly disk: SimulatedDisk;
  private handlingReadies = false;
  /** A Ready is written and its sync is under way. */
  private syncing = false;
  private term: Term = 0;
  private commit: LogIndex = 0;
  private role: RaftRole = "follower";
  private readonly random: Random;
  private readonly diskRandom: Random;
  private readonly biasRandom: Random;

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnvironment,
    random: Random,
    bootstrap: Snapshot | null,
  ) {
    this.random = random;
    this.diskRandom = random.fork("disk");
    this.biasRandom = random.fork("bias");
    const diskOptions = { forgetVote: env.bugs.has("forgetVote") };
    this.disk =
      bootstrap === null
        ? new SimulatedDisk(diskOptions)
        : SimulatedDisk.bootstrapped(bootstrap, diskOptions);
    env.raftNetwork.register(id, (packet) => this.receive(packet.payload));
    env.clientNetwork.register(id, (packet) => this.receiveFromClient(packet.from, packet.payload));
  }

  get appliedIndex(): LogIndex {
    return this.store.appliedIndex;
  }

  get currentRole(): RaftRole {
    return this.role;
  }

  get currentTerm(): Term {
    return this.term;
  }

  /**
   * Starts (or restarts) from what the disk holds. Returns the applied index
   * it resumed at when that came from a durable state machine, else null.
   */
  start(): LogIndex | null {
    this.incarnation += 1;
    const incarnation = this.incarnation;
    const scenario = this.env.scenario;
    const storage = this.disk.view;
    const stored = storage.storedSnapshot();
    const checkpoint = this.disk.stateMachine;
    // A durable state machine ahead of the snapshot restarts where it was;
    // otherwise the state is rebuilt from the snapshot and the log.
    const resume = checkpoint !== null && checkpoint.metadata.index > stored.metadata.index;
    this.store = resume
      ? KeyValueStore.fromCheckpoint(checkpoint)
      : KeyValueStore.fromSnapshot(stored);
    this.recentConfigurations = [this.store.confState];
    storage.confStateOverride = resume ? checkpoint.metadata.confState : null;
    const { hardState } = storage.initialState();
    this.term = hardState.term;
    this.commit = Math.max(hardState.commit, stored.metadata.index);
    this.role = "follower";
    storage.snapshotSource = () => (this.store.appliedIndex > 0 ? this.store.snapshot() : null);
    const jitter = this.random.fork(`election#${incarnation}`);
    this.rawNode = new RawNode({
      id: this.id,
      storage,
      random: {
        nextInt: (bound) =>
          jitter.integerBelow(this.env.tightElectionJitter() ? Math.min(bound, 2) : bound),
      },
      electionTimeoutTicks: scenario.electionTimeoutTicks,
      heartbeatIntervalTicks: scenario.heartbeatIntervalTicks,
      preVote: scenario.preVote,
      checkQuorum: scenario.checkQuorum,
      quiesce: scenario.quiesce,
      appendMessageBytesMax: scenario.appendMessageBytesMax,
      inflightMessagesMax: scenario.inflightMessagesMax,
      uncommittedEntriesBytesMax: scenario.uncommittedEntriesBytesMax,
      logger: this.env.logger(this.id),
      ...(resume ? { applied: this.store.appliedIndex } : {}),
      testingBugs: {
        commitPriorTermByCounting: this.env.bugs.has("commitPriorTermByCounting"),
        countVotesPerMessage: this.env.bugs.has("countVotesPerMessage"),
      },
    });
    const rawNode = this.rawNode;
    this.service = new ClientService({
      rawNode,
      store: () => this.store,
      reply: (to, reply) => this.env.clientNetwork.send(this.id, to, reply),
      deduplicate: !this.env.bugs.has("noClientDedup"),
      staleLocalReads: this.env.bugs.has("staleLocalReads"),
      incarnation,
    });
    this.state = "running";
    this.syncing = false;
    this.handlingReadies = false;
    this.env.raftNetwork.bringUp(this.id);
    this.env.clientNetwork.bringUp(this.id);
    // Ticks start at a random phase, so the nodes' clocks do not beat together.
    this.scheduleTick(incarnation, 1 + jitter.integerBelow(scenario.tickMs));
    return resume ? this.store.appliedIndex : null;
  }

  /** Loses everything not on the platter; `start` brings the node back from it. */
  crash(): void {
    if (this.state !== "running") return;
    this.incarnation += 1;
    this.state = "down";
    this.rawNode = null;
    this.service = null;
    this.env.raftNetwork.takeDown(this.id);
    this.env.clientNetwork.takeDown(this.id);
    this.disk.crash(this.diskRandom, this.env.scenario.crashLosesUnsyncedWrites);
  }

  /** Runs `action` on the live RawNode (and then its Ready), if the node is up. */
  withRawNode(action: (rawNode: RawNode) => void): void {
    if (this.rawNode === null) return;
    action(this.rawNode);
    this.handleReadies();
  }

  private scheduleTick(incarnation: number, delayMs: number): void {
    this.env.scheduler.scheduleAfter(delayMs, () => {
      if (this.incarnation !== incarnation || this.rawNode === null) return;
      this.rawNode.tick();
      this.handleReadies();
      this.scheduleTick(incarnation, this.env.scenario.tickMs);
    });
  }

  private receive(message: Message): void {
    if (this.rawNode === null) return;
    this.rawNode.step(message);
    this.handleReadies();
  }

  private receiveFromClient(from: string, envelope: ClientEnvelope): void {
    if (this.service === null || envelope.type !== "request") return;
    this.service.handle(from, envelope);
    this.handleReadies();
  }

  /**
   * Handles Readies until none is left or a sync is under way. Done at once
   * after every input (the loop of a real server that handles its Ready
   * after each batch of input, here a batch of one).
   */
  private handleReadies(): void {
    if (this.handlingReadies) return;
    this.handlingReadies = true;
    try {
      for (
        let round = 0;
        this.rawNode !== null && !this.syncing && this.rawNode.hasReady();
        round++
      ) {
        // Each Ready is handled completely before the next; a core that kept
        // producing them without input would be a livelock.
        if (round >= readiesPerInputMax) {
          throw new SafetyViolation(
            "event budget",
            `${this.id} produced ${round} Readies in a row`,
          );
        }
        this.handleReady(this.rawNode);
      }
    } finally {
      this.handlingReadies = false;
    }
  }

  private handleReady(rawNode: RawNode): void {
    const ready = rawNode.ready();
    if (ready.hardState !== null) this.term = ready.hardState.term;
    this.env.monitor.checkNoCommittedEntryReplaced(this.id, ready.entries, this.disk.view);
    // The snapshot goes first and the hard state last: the disk keeps writes
    // in order, so a crash never keeps a commit index without its entries.
    if (ready.snapshot !== null) this.disk.installSnapshot(ready.snapshot);
    this.disk.appendEntries(ready.entries);
    if (ready.hardState !== null) this.disk.saveHardState(ready.hardState);
    this.observe(ready);
    // Early messages (the leader's appends) leave while the write is synced.
    this.send(ready.earlyMessages);
    if (this.env.bugs.has("sendBeforePersist")) this.send(ready.messages);
    const syncMs = this.env.scenario.diskSyncMs;
    if (ready.mustSync && syncMs > 0 && this.env.bugs.has("advanceBeforeSync")) {
      // The bug: apply and advance now; only the sync and the replies wait.
      const incarnation = this.incarnation;
      this.env.scheduler.scheduleAfter(syncMs, () => {
        if (this.incarnation !== incarnation) return;
        this.disk.sync();
        this.send(ready.messages);
      });
      this.finishReady({ ...ready, messages: [], mustSync: false });
      return;
    }
    if (ready.mustSync && syncMs > 0) {
      this.syncing = true;
      const incarnation = this.incarnation;
      this.env.scheduler.scheduleAfter(syncMs, () => {
        if (this.incarnation !== incarnation) return;
        this.finishReady(ready);
        this.handleReadies();
      });
    } else {
      this.finishReady(ready);
    }
  }

  /** Shows a Ready to the safety monitor; its writes are already in the page cache. */
  private observe(ready: Ready): void {
    const monitor = this.env.monitor;
    const storage = this.disk.view;
    monitor.recordAppend(this.id, ready.entries, storage);
    if (ready.softState !== null) {
      if (ready.softState.role === "leader" && this.role !== "leader") {
        monitor.recordLeader(this.term, this.id);
        monitor.checkLeaderCompleteness(this.id, this.term, storage);
        this.env.events.becameLeader(this);
      }
      this.role = ready.softState.role;
    }
    const commit = ready.hardState?.commit ?? this.commit;
    if (commit > this.commit) {
      monitor.recordCommit(this.id, this.term, this.commit, commit, storage);
      if (this.role === "leader") this.checkCommitDurable(commit);
      this.commit = commit;
      if (this.role === "leader") this.env.events.leaderCommitted(this);
    }
    this.recentConfigurations = [this.store.confState];
  }

  /**
   * A leader's commit index may only cover what a quorum of the voters has
   * on its platter: its own entries count once synced, whether or not its
   * appends left before the sync (early messages).
   */
  private checkCommitDurable(commit: LogIndex): void {
    const term = this.disk.view.term(commit);
    const holders = (ids: readonly NodeId[]) =>
      ids.filter((id) => this.env.durablyHolds(id, commit, term)).length;
    const quorumHolds = (ids: readonly NodeId[]) =>
      ids.length === 0 || 2 * holders(ids) > ids.length;
    const configurations = [...this.recentConfigurations, this.store.confState];
    if (configurations.some((c) => quorumHolds(c.voters) && quorumHolds(c.votersOutgoing))) return;
    const { voters } = this.store.confState;
    throw new SafetyViolation(
      "durable commit",
      `${this.id} committed ${commit} (term ${term}) held durably by ${holders(voters)} of voters ${voters.join(" ")}`,
    );
  }

  /** Whether the platter holds the entry at `index` with `term`, or a snapshot covering it. */
  durablyHolds(index: LogIndex, term: Term): boolean {
    return this.disk.durablyHolds(index, term);
  }

  private finishReady(ready: Ready): void {
    const rawNode = this.rawNode;
    if (rawNode === null) return;
    if (ready.mustSync) this.disk.sync();
    if (!this.env.bugs.has("sendBeforePersist")) this.send(ready.messages);
    if (ready.snapshot !== null) this.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) this.apply(rawNode, entry);
    for (const readState of ready.readStates) this.service?.readStateArrived(readState);
    rawNode.advance();
    this.syncing = false;
    this.service?.serveReads();
    this.maybeCheckpoint(ready);
    this.maybeCompact();
  }

  /** With a durable state machine, what was applied is saved (at the seed's rate). */
  private maybeCheckpoint(ready: Ready): void {
    const probability = this.env.scenario.stateMachineCheckpointProbability;
    if (ready.committedEntries.length === 0 && ready.snapshot === null) return;
    if (probability === 0 || !this.diskRandom.chance(probability)) return;
    this.disk.checkpointStateMachine(this.store.checkpoint());
  }

  private send(messages: readonly Message[]): void {
    const { raftNetwork, scenario } = this.env;
    const bias = scenario.bias;
    // Recorded as they leave: a vote lost with an unsynced write was never cast.
    this.env.monitor.recordMessages(messages);
    let votedFor = false;
    for (const message of messages) {
      raftNetwork.send(this.id, message.to, message);
      if (message.type === "snapshot") {
        // The simulated transport hands a snapshot over at once; if it is
        // lost, the follower's next rejection asks for another.
        this.rawNode?.reportSnapshot(message.to, "finish");
      } else if (
        message.type === "vote" &&
        this.biasRandom.chance(bias.voteRequestReplayProbability)
      ) {
        const delayMs = this.biasRandom.integerBetween(
          scenario.tickMs,
          electionTimeoutMs(scenario),
        );
        this.env.scheduler.scheduleAfter(delayMs, () => {
          if (!raftNetwork.isDown(this.id)) raftNetwork.send(this.id, message.to, message);
        });
      } else if (message.type === "voteResponse" && !message.reject) {
        votedFor = true;
        if (this.biasRandom.chance(bias.voteResponseDuplicationProbability)) {
          raftNetwork.send(this.id, message.to, message);
        }
      }
    }
    if (votedFor) this.env.events.voteGranted(this);
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.store = KeyValueStore.fromSnapshot(snapshot);
    this.env.events.snapshotInstalled();
    this.env.monitor.recordSnapshot(this.id, snapshot, this.term, this.store.digest);
    const { index, confState } = snapshot.metadata;
    this.env.events.configurationApplied(this, index, confState);
  }

  private apply(rawNode: RawNode, entry: Entry): void {
    if (entry.index !== this.store.appliedIndex + 1) {
      throw new SafetyViolation(
        "state machine safety",
        `${this.id} applied ${entry.index} right after ${this.store.appliedIndex}`,
      );
    }
    const confState = entry.type === "confChange" ? this.applyConfChange(rawNode, entry) : null;
    const applied = this.store.apply(entry, !this.env.bugs.has("noClientDedup"));
    if (confState !== null) {
      this.store.confState = confState;
      this.recentConfigurations.push(confState);
    }
    this.env.monitor.recordApply(this.id, entry, this.store.digest);
    if (confState !== null) this.env.events.configurationApplied(this, entry.index, confState);
    if (applied !== null) this.service?.commandApplied(applied);
    if (entry.type === "normal") {
      const command = decodeCommand(entry.data);
      if (command?.kind === "marker") {
        this.env.events.markerApplied(this, command.marker, entry.index);
      }
    }
  }

  /** A committed change that cannot be applied means the committed log is wrong. */
  private applyConfChange(rawNode: RawNode, entry: ConfChangeEntry): ConfState {
    try {
      return rawNode.applyConfChange(entry.change);
    } catch (error) {
      if (!(error instanceof ConfChangeError)) throw error;
      throw new SafetyViolation(
        "state machine safety",
        `${this.id} cannot apply the committed configuration change at ${entry.index}: ${error.message}`,
      );
    }
  }

  /** Snapshots the state machine every so many entries and drops the log behind it. */
  private maybeCompact(): void {
    const every = this.env.scenario.compactionEveryEntries;
    const storage = this.disk.view;
    const applied = this.store.appliedIndex;
    if (every === 0 || applied - storage.storedSnapshot().metadata.index < every) return;
    // Only what the platter holds may be covered (it always is once applied).
    if (applied > storage.lastIndex()) return;
    const compactTo = Math.max(0, applied - this.env.scenario.compactionKeepEntries);
    this.disk.compact(applied, this.store.confState, this.store.snapshotData(), compactTo);
    this.env.events.compacted();
  }
}
