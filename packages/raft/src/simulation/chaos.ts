/**
 * Everything that happens to the nodes (the network's faults belong to the
 * kit's Nemesis): crashes and restarts, membership changes (add a learner,
 * promote it, remove a node, replace a voter through a joint
 * configuration), leadership transfers, and isolating the leader. Plus the
 * fault biases that strike at chosen moments: a crash right after granting a
 * vote, a crash of a leader right after it committed.
 *
 * Each activity runs at the seed's own rate; all of them stop for the
 * liveness phase. Removed nodes keep running, as a real server would: it
 * cannot know it was removed if it was cut off at the time, and a late copy
 * of an old proposal may even add it back (ids are never reused, but a
 * replayed "add n4" names the same node).
 */
import type { Random, SimulatedNetwork, SimulatedScheduler } from "@parley/simulation";
import { sampleExponential } from "@parley/simulation";
import type { ConfChange, ConfChangeSingle, Message } from "../index.ts";
import type { SimulatedCluster } from "./cluster.ts";
import type { SimulatedNode } from "./node.ts";
import { electionTimeoutMs, type Scenario } from "./scenario.ts";

/** Bounds on the number of voters the operator keeps (Parley's sponsor sets are 3–7). */
const votersMin = 3;
const votersMax = 7;

export interface ChaosStatistics {
  configurationProposals: number;
  transfers: number;
  isolations: number;
  biasedCrashes: number;
}

export class Chaos {
  readonly statistics: ChaosStatistics = {
    configurationProposals: 0,
    transfers: 0,
    isolations: 0,
    biasedCrashes: 0,
  };
  private active = false;
  /** A node created for the group that has not appeared in its configuration yet. */
  private joining: SimulatedNode | null = null;
  private nextProposal = 1;

  constructor(
    private readonly scenario: Scenario,
    private readonly scheduler: SimulatedScheduler,
    private readonly network: SimulatedNetwork<Message>,
    private readonly cluster: SimulatedCluster,
    private readonly random: Random,
    private readonly note: (text: string) => void,
  ) {}

  start(): void {
    this.active = true;
    const scenario = this.scenario;
    this.every(scenario.crashIntervalMsMean, () => this.crashSomeone());
    this.every(scenario.membershipIntervalMsMean, () => this.changeMembership());
    this.every(scenario.transferIntervalMsMean, () => this.transferLeadership());
    this.every(scenario.leaderIsolationIntervalMsMean, () => this.isolateLeader());
    this.every(scenario.bias.leaderCrashIntervalMsMean, () => this.crashLeader());
  }

  stop(): void {
    this.active = false;
  }

  /** Bias: a node that just granted a vote crashes, and comes back before the election is over. */
  voteGranted(node: SimulatedNode): void {
    if (!this.active || !this.random.chance(this.scenario.bias.crashAfterVoteProbability)) return;
    this.statistics.biasedCrashes += 1;
    // Back within a few milliseconds: while the election it voted in is still on.
    const downtimeMs = this.random.integerBetween(1, 3);
    this.scheduler.scheduleAfter(0, () => this.crashFor(node, "right after voting", downtimeMs));
  }

  /**
   * Bias: a new leader is cut off before its first messages leave, so its
   * empty entry stays on its own log (the divergent tails of Figure 8).
   */
  becameLeader(node: SimulatedNode): void {
    if (!this.active || !this.random.chance(this.scenario.bias.isolateNewLeaderProbability)) return;
    this.isolate(node, "new leader");
  }

  /**
   * Bias: a leader is cut off right after advancing its commit index, before
   * the messages of that moment (the next entries) leave.
   */
  leaderCommitted(node: SimulatedNode): void {
    const probability = this.scenario.bias.isolateLeaderAfterCommitProbability;
    if (!this.active || !this.random.chance(probability)) return;
    this.isolate(node, "leader that just committed");
  }

  private every(meanMs: number, action: () => void): void {
    if (meanMs === 0) return;
    const delayMs = Math.max(1, Math.round(sampleExponential(this.random, meanMs)));
    this.scheduler.scheduleAfter(delayMs, () => {
      if (!this.active) return;
      action();
      this.every(meanMs, action);
    });
  }

  private downtimeMs(): number {
    return Math.max(1, Math.round(sampleExponential(this.random, this.scenario.downtimeMsMean)));
  }

  private crashFor(node: SimulatedNode, reason: string, downtimeMs: number): void {
    if (!this.active || node.state !== "running") return;
    this.cluster.crash(node, reason);
    this.scheduler.scheduleAfter(downtimeMs, () => {
      if (this.active) this.cluster.restart(node);
    });
  }

  private crashSomeone(): void {
    const running = this.cluster.running();
    if (running.length === 0) return;
    const leader = this.cluster.leader();
    const victim =
      leader !== undefined && this.random.chance(0.3) ? leader : this.random.pick(running);
    this.crashFor(victim, "random crash", this.downtimeMs());
  }

  /** Bias: the leader crashes and comes back while its followers elect a successor. */
  private crashLeader(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    this.statistics.biasedCrashes += 1;
    const downtimeMs = this.random.integerBetween(1, electionTimeoutMs(this.scenario));
    this.crashFor(leader, "leader", downtimeMs);
  }

  private transferLeadership(): void {
    const voters = this.cluster.configuration.confState.voters;
    const running = this.cluster.running();
    if (voters.length === 0 || running.length === 0) return;
    const target = this.random.pick(voters);
    const via = this.random.pick(running);
    this.statistics.transfers += 1;
    this.note(`transfer of leadership to ${target} asked at ${via.id}`);
    via.withRawNode((raw) => raw.transferLeadership(target));
  }

  private isolateLeader(): void {
    const leader = this.cluster.leader();
    if (leader !== undefined) this.isolate(leader, "leader");
  }

  private isolate(node: SimulatedNode, role: string): void {
    // Long enough for the others to elect someone else, short enough to come back and compete.
    const durationMs = electionTimeoutMs(this.scenario) * this.random.integerBetween(1, 4);
    const partition = this.network.partition([node.id]);
    this.statistics.isolations += 1;
    this.note(`${role} ${node.id} isolated for ${durationMs} ms`);
    this.scheduler.scheduleAfter(durationMs, () => this.network.removePartition(partition));
  }

  private changeMembership(): void {
    const change = this.chooseChange();
    if (change === null) return;
    const running = this.cluster
      .running()
      .filter((node) => this.cluster.members().includes(node.id));
    if (running.length === 0) return;
    const via = this.random.pick(running);
    this.statistics.configurationProposals += 1;
    const unconditional: ConfChange = {
      transition: change.length > 1 && this.random.chance(0.5) ? "jointImplicit" : "auto",
      changes: change,
      // A unique context keeps two proposals of the same change apart in the log.
      context: new TextEncoder().encode(`proposal-${this.nextProposal}`),
    };
    // Most changes are conditional on the configuration they were decided
    // against, as Parley's membership layer makes them: a late copy then
    // cannot re-add a node removed meanwhile. Some stay unconditional.
    const expectedConfState = this.cluster.configuration.confState;
    const proposal: ConfChange = this.random.chance(0.8)
      ? { ...unconditional, expectedConfState }
      : unconditional;
    this.nextProposal += 1;
    const described = change.map((single) => `${single.type} ${single.nodeId}`).join(", ");
    via.withRawNode((raw) => {
      const result = raw.proposeConfChange(proposal);
      this.note(`configuration change [${described}] proposed at ${via.id}: ${result.status}`);
    });
  }

  /** The next change that keeps the voters between 3 and 7, or null. */
  private chooseChange(): ConfChangeSingle[] | null {
    const { voters, votersOutgoing, learners } = this.cluster.configuration.confState;
    // One change at a time: wait until a joint configuration is left.
    if (votersOutgoing.length > 0) return null;
    if (this.joining !== null) {
      if (!learners.includes(this.joining.id) && !voters.includes(this.joining.id)) {
        return [{ type: "addLearner", nodeId: this.joining.id }];
      }
      this.joining = null;
    }
    const options: (() => ConfChangeSingle[] | null)[] = [];
    if (voters.length + learners.length < votersMax + 1) {
      options.push(() => {
        this.joining = this.cluster.addBlankNode();
        return [{ type: "addLearner", nodeId: this.joining.id }];
      });
    }
    const learner = learners[0];
    if (learner !== undefined) {
      if (voters.length < votersMax) options.push(() => [{ type: "addVoter", nodeId: learner }]);
      options.push(() => [
        { type: "addVoter", nodeId: learner },
        { type: "removeNode", nodeId: this.random.pick(voters) },
      ]);
      options.push(() => [{ type: "removeNode", nodeId: learner }]);
    }
    if (voters.length > votersMin) {
      options.push(() => [{ type: "removeNode", nodeId: this.random.pick(voters) }]);
    }
    if (options.length === 0) return null;
    return this.random.pick(options)();
  }
}
