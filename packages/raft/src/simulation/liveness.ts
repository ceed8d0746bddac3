/**
 * The liveness phase's probe (TigerBeetle's VOPR liveness mode): once the
 * network is healed and every member is back up, a marker proposal must
 * commit, and every running member must apply it, within a bound of
 * virtual time. Safety alone would accept a group that never does anything
 * again; this is what catches a livelock.
 */
import type { SimulatedScheduler } from "@parley/simulation";
import type { LogIndex, NodeId } from "../index.ts";
import type { SimulatedCluster } from "./cluster.ts";
import { encodeCommand } from "./command.ts";
import type { SimulatedNode } from "./node.ts";

export class LivenessProbe {
  private readonly marker = 1;
  private markerIndex: LogIndex | null = null;
  private proposals = 0;
  private active = false;
  readonly startedAtMs: number;

  constructor(
    private readonly scheduler: SimulatedScheduler,
    private readonly cluster: SimulatedCluster,
    private readonly retryMs: number,
    private readonly pickNode: (nodes: readonly SimulatedNode[]) => SimulatedNode,
    private readonly note: (text: string) => void,
  ) {
    this.startedAtMs = scheduler.nowMs();
  }

  start(): void {
    this.active = true;
    this.propose();
  }

  stop(): void {
    this.active = false;
  }

  /** A node applied a marker: the first application fixes the index everyone must reach. */
  markerApplied(node: SimulatedNode, marker: number, index: LogIndex): void {
    if (marker !== this.marker || this.markerIndex !== null) return;
    this.markerIndex = index;
    this.note(`liveness marker committed at ${index} (applied first by ${node.id})`);
  }

  /** Members that have not applied the marker yet (all of them until it commits). */
  laggards(): NodeId[] {
    const members = this.cluster.members();
    const index = this.markerIndex;
    return members.filter((id) => {
      const node = this.cluster.nodes.get(id);
      if (node === undefined || node.state !== "running") return true;
      return index === null || node.appliedIndex < index;
    });
  }

  satisfied(): boolean {
    return this.markerIndex !== null && this.laggards().length === 0;
  }

  describe(): string {
    const index = this.markerIndex === null ? "not committed" : `committed at ${this.markerIndex}`;
    const nodes = [...this.cluster.nodes.values()].map(
      (node) =>
        `${node.id} ${node.state} ${node.currentRole} term ${node.currentTerm} applied ${node.appliedIndex}`,
    );
    return `marker ${index} after ${this.proposals} proposals; laggards: ${this.laggards().join(" ") || "none"}; ${nodes.join("; ")}`;
  }

  /** Proposes the marker at some running member until it commits. */
  private propose(): void {
    if (!this.active || this.markerIndex !== null) return;
    const members = new Set(this.cluster.members());
    const candidates = this.cluster.running().filter((node) => members.has(node.id));
    if (candidates.length > 0) {
      this.proposals += 1;
      this.pickNode(candidates).withRawNode((raw) => {
        raw.propose(encodeCommand({ kind: "marker", marker: this.marker }));
      });
    }
    this.scheduler.scheduleAfter(this.retryMs, () => this.propose());
  }
}
