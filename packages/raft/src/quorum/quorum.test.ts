/**
 * Checks the quorum arithmetic against a deliberately simple brute-force
 * definition (in the spirit of etcd's quorum/quick_test.go): "index i is
 * committed iff some majority subset has all acknowledged >= i" and "an
 * election is won iff some majority subset all voted yes, lost iff no
 * majority can still say yes".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NodeId, nodeId } from "../types.ts";
import { jointCommittedIndex, jointVoteResult } from "./joint.ts";
import { majorityCommittedIndex, majorityVoteResult, type VoteResult } from "./majority.ts";

function subsets<T>(items: readonly T[]): T[][] {
  const result: T[][] = [[]];
  for (const item of items) {
    const count = result.length;
    for (let i = 0; i < count; i++) result.push([...(result[i] ?? []), item]);
  }
  return result;
}

function isMajority(subset: readonly NodeId[], voters: ReadonlySet<NodeId>): boolean {
  return subset.length * 2 > voters.size;
}

function naiveCommitted(voters: ReadonlySet<NodeId>, acked: Map<NodeId, number>): number {
  if (voters.size === 0) return Number.POSITIVE_INFINITY;
  let best = 0;
  for (const subset of subsets([...voters])) {
    if (!isMajority(subset, voters)) continue;
    const low = Math.min(...subset.map((id) => acked.get(id) ?? 0));
    best = Math.max(best, low);
  }
  return best;
}

function naiveVote(voters: ReadonlySet<NodeId>, votes: Map<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return "won";
  const all = [...voters];
  const yes = all.filter((id) => votes.get(id) === true);
  const maybe = all.filter((id) => votes.get(id) !== false);
  if (subsets(yes).some((s) => isMajority(s, voters))) return "won";
  if (subsets(maybe).some((s) => isMajority(s, voters))) return "pending";
  return "lost";
}

const ids = ["a", "b", "c", "d", "e", "f", "g", "h"].map(nodeId);
const voterSet = fc.subarray(ids, { minLength: 0, maxLength: 7 }).map((list) => new Set(list));
const ackMap = fc
  .array(fc.tuple(fc.constantFrom(...ids), fc.nat({ max: 20 })), { maxLength: 10 })
  .map((pairs) => new Map(pairs));
const voteMap = fc
  .array(fc.tuple(fc.constantFrom(...ids), fc.boolean()), { maxLength: 10 })
  .map((pairs) => new Map(pairs));

describe("majority quorum", () => {
  it("commits what the brute-force definition commits", () => {
    fc.assert(
      fc.property(voterSet, ackMap, (voters, acked) => {
        expect(majorityCommittedIndex(voters, (id) => acked.get(id))).toBe(
          naiveCommitted(voters, acked),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("decides elections as the brute-force definition does", () => {
    fc.assert(
      fc.property(voterSet, voteMap, (voters, votes) => {
        expect(majorityVoteResult(voters, votes)).toBe(naiveVote(voters, votes));
      }),
      { numRuns: 2000 },
    );
  });

  it("needs three of five", () => {
    const voters = new Set(ids.slice(0, 5));
    const votes = new Map<NodeId, boolean>([
      [nodeId("a"), true],
      [nodeId("b"), true],
    ]);
    expect(majorityVoteResult(voters, votes)).toBe("pending");
    votes.set(nodeId("c"), false);
    votes.set(nodeId("d"), false);
    expect(majorityVoteResult(voters, votes)).toBe("pending");
    votes.set(nodeId("e"), false);
    expect(majorityVoteResult(voters, votes)).toBe("lost");
  });
});

describe("joint quorum", () => {
  it("commits the minimum of both halves, as brute force says", () => {
    fc.assert(
      fc.property(voterSet, voterSet, ackMap, (incoming, outgoing, acked) => {
        const expected = Math.min(naiveCommitted(incoming, acked), naiveCommitted(outgoing, acked));
        expect(jointCommittedIndex({ incoming, outgoing }, (id) => acked.get(id))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("wins only with both halves and loses with either", () => {
    fc.assert(
      fc.property(voterSet, voterSet, voteMap, (incoming, outgoing, votes) => {
        const a = naiveVote(incoming, votes);
        const b = naiveVote(outgoing, votes);
        const expected: VoteResult =
          a === "won" && b === "won" ? "won" : a === "lost" || b === "lost" ? "lost" : "pending";
        expect(jointVoteResult({ incoming, outgoing }, votes)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("with an empty outgoing half behaves like the incoming majority", () => {
    fc.assert(
      fc.property(voterSet, ackMap, voteMap, (incoming, acked, votes) => {
        const outgoing = new Set<NodeId>();
        const lookup = (id: NodeId) => acked.get(id);
        expect(jointCommittedIndex({ incoming, outgoing }, lookup)).toBe(
          majorityCommittedIndex(incoming, lookup),
        );
        expect(jointVoteResult({ incoming, outgoing }, votes)).toBe(
          majorityVoteResult(incoming, votes),
        );
      }),
    );
  });
});
