/**
 * The simulated group as a whole: its nodes (ids are never reused, so a
 * replacement gets a fresh one), crashes and restarts, the failure detector
 * that reports crashes to the survivors, and what the group has agreed its
 * configuration is (the newest one any node applied).
 */
import type { Random } from "@parley/simulation";
import { type ConfState, type LogIndex, type NodeId, nodeId, type Snapshot } from "../index.ts";
import { type NodeEnvironment, type NodeEvents, SimulatedNode } from "./node.ts";

export interface ClusterStatistics {
  crashes: number;
  restarts: number;
  nodesCreated: number;
  /** Snapshots received from a leader and installed. */
  snapshotsInstalled: number;
  compactions: number;
  /** Restarts from a durable state machine beyond the snapshot. */
  resumedFromStateMachine: number;
}

export class SimulatedCluster {
  readonly nodes = new Map<NodeId, SimulatedNode>();
  readonly statistics: ClusterStatistics = {
    crashes: 0,
    restarts: 0,
    nodesCreated: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    resumedFromStateMachine: 0,
  };
  /** The newest configuration some node applied, and at which index. */
  configuration: { index: LogIndex; confState: ConfState };
  private membersOf: { readonly confState: ConfState; readonly members: readonly NodeId[] } | null =
    null;
  private nextNodeNumber = 1;
  private readonly environment: NodeEnvironment;

  constructor(
    environment: Omit<NodeEnvironment, "events" | "durablyHolds">,
    private readonly random: Random,
    initialVoters: number,
    private readonly note: (text: string) => void,
    private readonly hooks: Pick<
      NodeEvents,
      "voteGranted" | "becameLeader" | "leaderCommitted" | "markerApplied"
    >,
  ) {
    this.environment = {
      ...environment,
      durablyHolds: (id, index, term) => this.nodes.get(id)?.durablyHolds(index, term) ?? false,
      events: {
        voteGranted: (node) => this.hooks.voteGranted(node),
        becameLeader: (node) => this.hooks.becameLeader(node),
        leaderCommitted: (node) => this.hooks.leaderCommitted(node),
        markerApplied: (node, marker, index) => this.hooks.markerApplied(node, marker, index),
        snapshotInstalled: () => {
          this.statistics.snapshotsInstalled += 1;
        },
        compacted: () => {
          this.statistics.compactions += 1;
        },
        configurationApplied: (node, index, confState) =>
          this.configurationApplied(node, index, confState),
      },
    };
    const voters: NodeId[] = [];
    for (let i = 0; i < initialVoters; i++) voters.push(this.freshId());
    const confState: ConfState = {
      voters: [...voters].sort(),
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.configuration = { index: 1, confState };
    // etcd-style bootstrap: every initial voter's disk holds a snapshot at
    // index 1 naming the voters, and an empty state machine.
    const bootstrap: Snapshot = {
      metadata: { index: 1, term: 1, confState },
      data: new Uint8Array(0),
    };
    for (const id of voters) this.create(id, bootstrap).start();
  }

  /** Creates and starts a node with an empty disk, to be added to the group. */
  addBlankNode(): SimulatedNode {
    const node = this.create(this.freshId(), null);
    node.start();
    this.note(`${node.id} created (empty disk)`);
    return node;
  }

  running(): SimulatedNode[] {
    return [...this.nodes.values()].filter((node) => node.state === "running");
  }

  /**
   * Members of the newest configuration (voters of both halves and
   * learners), sorted; the list is kept until the configuration changes,
   * since every client attempt and liveness check asks.
   */
  members(): readonly NodeId[] {
    const confState = this.configuration.confState;
    if (this.membersOf?.confState !== confState) {
      const { voters, votersOutgoing, learners } = confState;
      const members = [...new Set([...voters, ...votersOutgoing, ...learners])].sort();
      this.membersOf = { confState, members };
    }
    return this.membersOf.members;
  }

  /** The running node that believes it leads the highest term, if any. */
  leader(): SimulatedNode | undefined {
    let best: SimulatedNode | undefined;
    for (const node of this.running()) {
      if (node.currentRole !== "leader") continue;
      if (best === undefined || node.currentTerm > best.currentTerm) best = node;
    }
    return best;
  }

  crash(node: SimulatedNode, reason: string): void {
    if (node.state !== "running") return;
    node.crash();
    this.statistics.crashes += 1;
    this.note(`${node.id} crashed (${reason})`);
    this.reportLiveness(node, false);
  }

  restart(node: SimulatedNode): void {
    if (node.state !== "down") return;
    const resumedAt = node.start();
    this.statistics.restarts += 1;
    if (resumedAt === null) {
      this.note(`${node.id} restarted`);
    } else {
      this.statistics.resumedFromStateMachine += 1;
      this.note(`${node.id} restarted, its durable state machine at ${resumedAt}`);
    }
    // A restarted node starts with no liveness knowledge: tell it who is down.
    for (const other of this.nodes.values()) {
      if (other.state !== "running")
        node.withRawNode((raw) => raw.peerLivenessChanged(other.id, false));
    }
    this.reportLiveness(node, true);
  }

  private create(id: NodeId, bootstrap: Snapshot | null): SimulatedNode {
    const node = new SimulatedNode(id, this.environment, this.random.fork(`node-${id}`), bootstrap);
    this.nodes.set(id, node);
    this.statistics.nodesCreated += 1;
    return node;
  }

  private freshId(): NodeId {
    const id = nodeId(`n${this.nextNodeNumber}`);
    this.nextNodeNumber += 1;
    return id;
  }

  /** The failure detector: survivors hear of a crash or a recovery after a delay. */
  private reportLiveness(subject: SimulatedNode, alive: boolean): void {
    const report = (): void => {
      const stillSo = alive ? subject.state === "running" : subject.state !== "running";
      if (!stillSo) return;
      for (const node of this.running()) {
        if (node !== subject) node.withRawNode((raw) => raw.peerLivenessChanged(subject.id, alive));
      }
    };
    const delayMs = this.environment.scenario.failureDetectionMs;
    if (delayMs === 0) report();
    else this.environment.scheduler.scheduleAfter(delayMs, report);
  }

  private configurationApplied(node: SimulatedNode, index: LogIndex, confState: ConfState): void {
    if (index <= this.configuration.index) return;
    this.configuration = { index, confState };
    this.note(`${node.id} applied configuration at ${index}: ${describeMembers(confState)}`);
  }
}

export function describeMembers(confState: ConfState): string {
  let text = `voters (${confState.voters.join(" ")})`;
  if (confState.votersOutgoing.length > 0) text += ` & (${confState.votersOutgoing.join(" ")})`;
  if (confState.learners.length > 0) text += `, learners (${confState.learners.join(" ")})`;
  return text;
}
