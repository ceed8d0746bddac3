/**
 * ReadIndex (Raft thesis §6.4), safe mode only. A read request gets the
 * leader's commit index once a quorum has confirmed, by answering a
 * heartbeat, that this node was still leader when the request arrived. A new
 * leader defers reads until it has committed an entry of its term, because
 * until then its commit index may lag behind the previous leader's.
 */
import type { LogIndex, NodeId } from "../types.ts";
import type { Raft } from "./raft.ts";
import type { ReadRequest } from "./read-only.ts";
import { bcastHeartbeat } from "./replication.ts";

export type ReadIndexDropReason = "noLeader" | "tooManyPending";

/**
 * "accepted": a ReadState with the same context will appear in a later Ready
 * (or never, if leadership is lost meanwhile: callers retry on a timeout).
 */
export type ReadIndexResult =
  | { readonly status: "accepted" }
  | { readonly status: "forwarded"; readonly to: NodeId }
  | { readonly status: "dropped"; readonly reason: ReadIndexDropReason };

/** A read request made on this node. */
export function readIndex(r: Raft, context: Uint8Array): ReadIndexResult {
  if (r.role === "leader") return leaderReadIndex(r, { from: r.id, context });
  if (r.role === "follower" && r.lead !== null) {
    r.send({ type: "readIndex", from: r.id, to: r.lead, term: 0, context });
    return { status: "forwarded", to: r.lead };
  }
  r.logger.info(`${r.id} no leader at term ${r.term}; dropping read index request`);
  return { status: "dropped", reason: "noLeader" };
}

export function leaderReadIndex(r: Raft, request: ReadRequest): ReadIndexResult {
  if (r.tracker.isSingleton() && r.tracker.isVoter(r.id)) {
    // The only voter needs nobody's confirmation.
    respond(r, request, r.raftLog.committed);
    return { status: "accepted" };
  }
  if (r.readOnly.pendingCount + r.pendingReadRequests.length >= r.config.pendingReadRequestsMax) {
    return { status: "dropped", reason: "tooManyPending" };
  }
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadRequests.push(request);
    return { status: "accepted" };
  }
  confirmLeadership(r, request);
  return { status: "accepted" };
}

function confirmLeadership(r: Raft, request: ReadRequest): void {
  r.readOnly.addRequest(r.raftLog.committed, request);
  // The leader's own acknowledgement of the new round.
  r.readOnly.recvAck(r.id, r.readOnly.heartbeatRound());
  bcastHeartbeat(r);
}

/** Called when the commit index moved: deferred reads may proceed once the term has a commit. */
export function releasePendingReadRequests(r: Raft): void {
  if (r.pendingReadRequests.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const requests = r.pendingReadRequests;
  r.pendingReadRequests = [];
  for (const request of requests) confirmLeadership(r, request);
}

/** A voter answered a heartbeat of read round `round`. */
export function handleReadAck(r: Raft, from: NodeId, round: number): void {
  if (round === 0) return;
  r.readOnly.recvAck(from, round);
  for (const confirmed of r.readOnly.maybeAdvance(r.tracker.config.voters)) {
    respond(r, confirmed.request, confirmed.index);
  }
}

function respond(r: Raft, request: ReadRequest, index: LogIndex): void {
  if (request.from === r.id) {
    r.readStates.push({ index, context: request.context });
    return;
  }
  r.send({
    type: "readIndexResponse",
    from: r.id,
    to: request.from,
    term: r.term,
    index,
    context: request.context,
  });
}
