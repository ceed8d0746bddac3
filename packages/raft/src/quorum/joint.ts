/**
 * Joint quorums (Raft thesis §4.3): while a configuration changes from C_old
 * to C_new, every decision needs a majority of both. `outgoing` is empty when
 * the configuration is not joint, and then only `incoming` decides.
 */
import type { LogIndex, NodeId } from "../types.ts";
import {
  type AckedIndexLookup,
  majorityCommittedIndex,
  majorityVoteResult,
  type VoteResult,
} from "./majority.ts";

export interface JointConfig {
  /** C_new, or the only voter set when not joint. */
  readonly incoming: ReadonlySet<NodeId>;
  /** C_old while joint; empty otherwise. */
  readonly outgoing: ReadonlySet<NodeId>;
}

export function isJoint(config: JointConfig): boolean {
  return config.outgoing.size > 0;
}

/** Every voter of either half. */
export function jointVoterIds(config: JointConfig): Set<NodeId> {
  const ids = new Set(config.incoming);
  for (const id of config.outgoing) ids.add(id);
  return ids;
}

/** An index is committed only when both halves have committed it. */
export function jointCommittedIndex(config: JointConfig, acked: AckedIndexLookup): LogIndex {
  return Math.min(
    majorityCommittedIndex(config.incoming, acked),
    majorityCommittedIndex(config.outgoing, acked),
  );
}

/** An election is won only when both halves are won, and lost as soon as either is lost. */
export function jointVoteResult(
  config: JointConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const incoming = majorityVoteResult(config.incoming, votes);
  const outgoing = majorityVoteResult(config.outgoing, votes);
  if (incoming === outgoing) return incoming;
  if (incoming === "lost" || outgoing === "lost") return "lost";
  return "pending";
}
