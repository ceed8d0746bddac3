/**
 * Majority quorums: a decision needs more than half of a voter set.
 *
 * Kept free of Raft state so it can be checked against a deliberately naive
 * implementation (see quorum.test.ts).
 */
import type { LogIndex, NodeId } from "../types.ts";

export type VoteResult = "pending" | "lost" | "won";

/** Looks up the log index a voter has acknowledged, if it has acknowledged anything. */
export type AckedIndexLookup = (voter: NodeId) => LogIndex | undefined;

/**
 * The largest index acknowledged by a majority of `voters`. Voters that have
 * not reported count as having acknowledged 0. An empty set yields +Infinity,
 * which makes an empty half of a joint configuration neutral under `min`.
 */
export function majorityCommittedIndex(
  voters: ReadonlySet<NodeId>,
  acked: AckedIndexLookup,
): LogIndex {
  const count = voters.size;
  if (count === 0) return Number.POSITIVE_INFINITY;
  const indexes: number[] = [];
  for (const id of voters) indexes.push(acked(id) ?? 0);
  indexes.sort((a, b) => a - b);
  // Sorted ascending, the element at count - (count/2 + 1) is the highest
  // index that count/2 + 1 voters (a majority) have all reached.
  const position = count - (Math.floor(count / 2) + 1);
  return indexes[position] ?? 0;
}

/**
 * The outcome of an election among `voters`. Votes from ids outside the set
 * are ignored. An empty set wins by convention, again so that an empty half of
 * a joint configuration is neutral.
 */
export function majorityVoteResult(
  voters: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.size === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return "won";
  if (granted + missing >= quorum) return "pending";
  return "lost";
}
