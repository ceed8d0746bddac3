/**
 * The leader's view of the group: the active configuration, the progress of
 * every member, and the votes of the current election.
 *
 * Membership and learner flags are derived from the configuration alone;
 * `setConfig` reconciles the progress map with a new configuration.
 */
import { fail } from "../assert.ts";
import {
  isJoint,
  type JointConfig,
  jointCommittedIndex,
  jointVoteResult,
} from "../quorum/joint.ts";
import type { VoteResult } from "../quorum/majority.ts";
import type { ConfState, LogIndex, NodeId } from "../types.ts";
import { Progress } from "./progress.ts";

export interface TrackerConfig {
  readonly voters: JointConfig;
  /** Non-voting members. Never intersects either voter half. */
  readonly learners: ReadonlySet<NodeId>;
  /**
   * Voters of the outgoing half that become learners when the joint
   * configuration is left (a voter cannot be both voter and learner at once).
   */
  readonly learnersNext: ReadonlySet<NodeId>;
  /** While joint: whether the leader leaves the joint configuration by itself. */
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function configToConfState(config: TrackerConfig): ConfState {
  return {
    voters: sorted(config.voters.incoming),
    votersOutgoing: sorted(config.voters.outgoing),
    learners: sorted(config.learners),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

export function describeConfig(config: TrackerConfig): string {
  const list = (ids: Iterable<NodeId>) => `(${sorted(ids).join(" ")})`;
  let text = `voters=${list(config.voters.incoming)}`;
  if (isJoint(config.voters)) text += `&&${list(config.voters.outgoing)}`;
  if (config.learners.size > 0) text += ` learners=${list(config.learners)}`;
  if (config.learnersNext.size > 0) text += ` learnersNext=${list(config.learnersNext)}`;
  if (config.autoLeave) text += " autoLeave";
  return text;
}

export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  readonly progress = new Map<NodeId, Progress>();
  /** Member ids in sorted order, so every iteration (and every transcript) is deterministic. */
  private sortedIds: NodeId[] = [];
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    readonly inflightMessagesMax: number,
    readonly inflightBytesMax: number,
  ) {}

  /**
   * Installs `config`, dropping the progress of removed members and creating
   * progress for new ones (probing from `lastIndex`, the optimistic guess that
   * a new member may already hold the log, e.g. from a snapshot).
   */
  setConfig(config: TrackerConfig, lastIndex: LogIndex): void {
    const members = new Set<NodeId>(config.voters.incoming);
    for (const id of config.voters.outgoing) members.add(id);
    for (const id of config.learners) members.add(id);
    for (const id of this.progress.keys()) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = config.learners.has(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      this.progress.set(id, this.newProgress(lastIndex, isLearner));
    }
    this.config = config;
    this.sortedIds = sorted(members);
  }

  newProgress(lastIndex: LogIndex, isLearner: boolean): Progress {
    return new Progress({
      match: 0,
      next: Math.max(lastIndex, 1),
      isLearner,
      inflightMessagesMax: this.inflightMessagesMax,
      inflightBytesMax: this.inflightBytesMax,
    });
  }

  confState(): ConfState {
    return configToConfState(this.config);
  }

  /** Sorted ids of every member (voters of both halves and learners). */
  memberIds(): readonly NodeId[] {
    return this.sortedIds;
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** True if the only voter is a single node (which can then decide alone). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index acknowledged by a (joint) quorum of voters. */
  committed(): LogIndex {
    const index = jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
    // An empty configuration commits nothing new.
    return Number.isFinite(index) ? index : 0;
  }

  /** Calls `visit` for every member in sorted order. */
  visit(visit: (id: NodeId, progress: Progress) => void): void {
    for (const id of this.sortedIds) {
      const progress = this.progress.get(id);
      if (progress === undefined) fail(`member ${id} has progress`);
      visit(id, progress);
    }
  }

  /** Whether a quorum of voters was recently active (CheckQuorum). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    this.visit((id, progress) => {
      if (!progress.isLearner) active.set(id, progress.recentActive);
    });
    return jointVoteResult(this.config.voters, active) === "won";
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; only the first vote of each voter counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, vote] of this.votes) {
      if (!this.isVoter(id)) continue;
      if (vote) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }

  describeProgress(): string {
    const lines: string[] = [];
    this.visit((id, progress) => lines.push(`${id}: ${progress.describe()}`));
    return lines.join("\n");
  }
}
