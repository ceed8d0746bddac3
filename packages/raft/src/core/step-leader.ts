/**
 * What the leader does with messages of its term: acknowledgements drive
 * the commit index and the flow control of each follower; it also serves
 * forwarded proposals, reads and transfer requests.
 */
import type { AppendResponseMessage, HeartbeatResponseMessage, Message } from "../message.ts";
import type { Progress } from "../tracker/progress.ts";
import type { NodeId } from "../types.ts";
import { proposeAsLeader } from "./proposal.ts";
import type { Raft } from "./raft.ts";
import { handleReadAck, leaderReadIndex, releasePendingReadRequests } from "./read-index.ts";
import { bcastAppend, maybeCommit, maybeSendAppend, sendAppend } from "./replication.ts";

/** CheckQuorum: step down unless a quorum was heard from since the last check. */
export function checkQuorum(r: Raft): void {
  if (!r.tracker.quorumActive()) {
    r.logger.warn(`${r.id} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, null);
    return;
  }
  r.tracker.visit((id, progress) => {
    if (id !== r.id) progress.recentActive = false;
  });
}

export function stepLeader(r: Raft, message: Message): void {
  switch (message.type) {
    case "propose":
      proposeAsLeader(r, message.entries);
      return;
    case "readIndex":
      leaderReadIndex(r, { from: message.from, context: message.context });
      return;
    case "transferLeader":
      transferLeadership(r, message.transferee);
      return;
    case "appendResponse":
    case "heartbeatResponse": {
      const progress = r.tracker.progress.get(message.from);
      if (progress === undefined) {
        r.logger.debug(`${r.id} no progress available for ${message.from}`);
        return;
      }
      if (message.type === "appendResponse") handleAppendResponse(r, message, progress);
      else handleHeartbeatResponse(r, message, progress);
      return;
    }
    default:
      return;
  }
}

function handleAppendResponse(r: Raft, message: AppendResponseMessage, progress: Progress): void {
  progress.recentActive = true;
  if (message.reject) {
    r.logger.debug(
      `${r.id} received append rejection (hint: index ${message.rejectHintIndex}, term ${message.rejectHintTerm}) from ${message.from} for index ${message.index}`,
    );
    let nextProbe = message.rejectHintIndex;
    if (message.rejectHintTerm > 0) {
      // Skip every index where our term is above the follower's: a probe
      // there must fail too, since terms only grow along a log.
      nextProbe = r.raftLog.findConflictByTerm(
        message.rejectHintIndex,
        message.rejectHintTerm,
      ).index;
    }
    if (progress.maybeDecreaseTo(message.index, nextProbe)) {
      r.logger.debug(`${r.id} decreased progress of ${message.from} to [${progress.describe()}]`);
      if (progress.state === "replicate") progress.becomeProbe();
      sendAppend(r, message.from);
    }
    return;
  }

  // Also handle an acknowledgement of what a probing follower already had:
  // it moves the follower back to replicating.
  const updated = progress.maybeUpdate(message.index);
  if (!updated && !(progress.match === message.index && progress.state === "probe")) return;

  if (progress.state === "probe") {
    progress.becomeReplicate();
  } else if (progress.state === "snapshot" && progress.match + 1 >= r.raftLog.firstIndex()) {
    // The follower can be served from the log again (whatever snapshot got it there).
    r.logger.debug(
      `${r.id} recovered from needing snapshot, resumed sending replication messages to ${message.from}`,
    );
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === "replicate") {
    progress.inflights.freeLE(message.index);
  }

  if (maybeCommit(r)) {
    releasePendingReadRequests(r);
    bcastAppend(r);
  } else if (message.from !== r.id && progress.canBumpCommit(r.raftLog.committed)) {
    // Tell a follower the commit index now rather than at the next heartbeat.
    sendAppend(r, message.from);
  }
  if (message.from !== r.id) {
    // The window may have room for several batches now.
    while (maybeSendAppend(r, message.from, false)) {}
  }
  if (message.from === r.leadTransferee && progress.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.id} sent timeoutNow to ${message.from} after received appendResponse`);
    sendTimeoutNow(r, message.from);
  }
}

function handleHeartbeatResponse(
  r: Raft,
  message: HeartbeatResponseMessage,
  progress: Progress,
): void {
  progress.recentActive = true;
  progress.flowPaused = false;
  // A heartbeat response also unblocks a paused flow: send what is missing
  // (an empty append for a caught-up prober lets it return to replicating).
  if (progress.match < r.raftLog.lastIndex() || progress.state === "probe") {
    sendAppend(r, message.from);
  }
  handleReadAck(r, message.from, message.readRound);
}

/** Leader side of a transfer (thesis §3.10): catch the target up, then TimeoutNow. */
export function transferLeadership(r: Raft, transferee: NodeId): void {
  const progress = r.tracker.progress.get(transferee);
  if (progress === undefined || progress.isLearner) {
    r.logger.debug(`${r.id} ignored transferring leadership to ${transferee}: not a voter`);
    return;
  }
  if (r.leadTransferee !== null) {
    if (r.leadTransferee === transferee) {
      r.logger.info(
        `${r.id} [term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node`,
      );
      return;
    }
    r.logger.info(
      `${r.id} [term ${r.term}] abort previous transferring leadership to ${r.leadTransferee}`,
    );
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) {
    r.logger.debug(`${r.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within an election timeout, or it is abandoned.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (progress.match === r.raftLog.lastIndex()) {
    sendTimeoutNow(r, transferee);
    r.logger.info(
      `${r.id} sends timeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`,
    );
  } else {
    sendAppend(r, transferee);
  }
}

function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: "timeoutNow", from: r.id, to, term: r.term });
}

export type SnapshotStatus = "finish" | "failure";

/** The caller reports how sending a snapshot to `id` ended. */
export function reportSnapshot(r: Raft, id: NodeId, status: SnapshotStatus): void {
  const progress = r.tracker.progress.get(id);
  if (r.role !== "leader" || progress === undefined || progress.state !== "snapshot") return;
  if (status === "failure") {
    // Forget the pending snapshot first, or we would probe from its index.
    progress.pendingSnapshot = 0;
  }
  progress.becomeProbe();
  r.logger.debug(`${r.id} snapshot ${status}, resumed sending replication messages to ${id}`);
  // Wait for the follower's answer (or the next heartbeat) before the next append.
  progress.flowPaused = true;
}

/** The caller could not deliver a message to `id`: the pipeline to it was probably lost. */
export function reportUnreachable(r: Raft, id: NodeId): void {
  const progress = r.tracker.progress.get(id);
  if (r.role !== "leader" || progress === undefined) return;
  if (progress.state === "replicate") progress.becomeProbe();
  r.logger.debug(`${r.id} failed to send message to ${id} because it is unreachable`);
}
