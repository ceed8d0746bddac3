import type { ServerName } from "@parley/protocol";
import type { ConfChange, NodeId, Status } from "@parley/raft";
import { EMPTY_BYTES } from "@parley/raft";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";

/** What the leader should do next to make the Raft configuration match the sponsor set. */
export type MembershipStep =
  | { readonly kind: "change"; readonly change: ConfChange }
  | { readonly kind: "transfer"; readonly to: NodeId }
  | null;

/**
 * The room state's sponsor set is what the configuration should be; the
 * Raft configuration is what it is. A sponsor set change commits as a
 * control entry first (checked by the room state machine: only a sponsor may
 * change it, within the policy's cap), and the leader then moves the Raft
 * configuration towards it one change at a time, as CockroachDB's replicate
 * queue does:
 *
 * 1. a sponsor without a node gets one, as a learner (it catches up from a
 *    snapshot without costing the group its quorum);
 * 2. a learner that has caught up (holds every committed entry) becomes a voter;
 * 3. a node whose server is no longer a sponsor (or is there under an older
 *    incarnation) is removed; if it is the leader itself, it first hands
 *    leadership to a caught-up voter that stays.
 *
 * Adding before removing keeps the voter count from dipping when a sponsor
 * is replaced. The Raft core allows one pending change and refuses changes
 * until a new leader's first entry applies; a refused proposal is simply
 * tried again at a later tick.
 */
export function nextMembershipStep(
  desired: readonly (readonly [ServerName, number])[],
  status: Status,
): MembershipStep {
  const config = status.config;
  if (status.progress === null || config.votersOutgoing.length > 0) return null;
  const desiredIds = new Set(
    desired.map(([server, incarnation]) => sponsorNodeId(server, incarnation)),
  );
  const members = new Set([...config.voters, ...config.learners]);
  for (const id of [...desiredIds].sort()) {
    if (!members.has(id)) return change("addLearner", id);
  }
  for (const id of config.learners) {
    const progress = status.progress.get(id);
    if (desiredIds.has(id) && progress !== undefined && progress.match >= status.hardState.commit) {
      return change("addVoter", id);
    }
  }
  for (const id of [...members].sort()) {
    if (desiredIds.has(id)) continue;
    if (id !== status.id) return change("removeNode", id);
    const successor = config.voters.find(
      (voter) =>
        voter !== status.id &&
        desiredIds.has(voter) &&
        (status.progress?.get(voter)?.match ?? 0) >= status.lastIndex,
    );
    return successor === undefined ? null : { kind: "transfer", to: successor };
  }
  return null;
}

function change(type: "addLearner" | "addVoter" | "removeNode", id: NodeId): MembershipStep {
  return {
    kind: "change",
    change: { transition: "auto", changes: [{ type, nodeId: id }], context: EMPTY_BYTES },
  };
}

/** Whether the configuration already matches the sponsor set (a cheap test before the full step). */
export function membershipMatches(
  desired: readonly (readonly [ServerName, number])[],
  voters: readonly NodeId[],
  learners: readonly NodeId[],
): boolean {
  if (learners.length > 0 || voters.length !== desired.length) return false;
  const ids = new Set(voters);
  return desired.every(([server, incarnation]) => ids.has(sponsorNodeId(server, incarnation)));
}
