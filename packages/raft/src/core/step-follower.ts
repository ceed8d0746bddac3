/**
 * What followers and (pre-)candidates do with messages of their current term.
 */
import type { HeartbeatMessage, Message, SnapshotMessage } from "../message.ts";
import { campaign, hup, poll } from "./election.ts";
import { restoreSnapshot } from "./membership.ts";
import { quiesceFollower } from "./quiesce.ts";
import type { Raft } from "./raft.ts";
import { bcastAppend, handleAppendEntries } from "./replication.ts";

export function stepFollower(r: Raft, message: Message): void {
  switch (message.type) {
    case "propose":
    case "readIndex":
    case "transferLeader":
      // Requests forwarded to us by a node that thought we lead: pass them on.
      forwardToLeader(r, message);
      return;
    case "append":
      r.electionElapsed = 0;
      r.lead = message.from;
      handleAppendEntries(r, message);
      return;
    case "heartbeat":
      r.electionElapsed = 0;
      r.lead = message.from;
      handleHeartbeat(r, message);
      return;
    case "snapshot":
      r.electionElapsed = 0;
      r.lead = message.from;
      handleSnapshot(r, message);
      return;
    case "timeoutNow":
      r.logger.info(
        `${r.id} [term ${r.term}] received timeoutNow from ${message.from} and starts an election to get leadership`,
      );
      // A transfer skips PreVote: the leader asked for it, so there is no
      // partition to be careful about.
      hup(r, "transfer");
      return;
    case "readIndexResponse":
      r.readStates.push({ index: message.index, context: message.context });
      return;
    default:
      return;
  }
}

function forwardToLeader(
  r: Raft,
  message: Extract<Message, { type: "propose" | "readIndex" | "transferLeader" }>,
): void {
  if (r.lead === null || (message.type === "propose" && r.config.disableProposalForwarding)) {
    r.logger.info(`${r.id} no leader at term ${r.term}; dropping forwarded ${message.type}`);
    return;
  }
  r.send({ ...message, from: r.id, to: r.lead });
}

export function stepCandidate(r: Raft, message: Message): void {
  // While a candidate, stale pre-vote responses of this term may still
  // arrive: only the responses of our current kind of campaign count.
  const expectedResponse = r.role === "preCandidate" ? "preVoteResponse" : "voteResponse";
  switch (message.type) {
    case "append":
      r.becomeFollower(message.term, message.from);
      handleAppendEntries(r, message);
      return;
    case "heartbeat":
      r.becomeFollower(message.term, message.from);
      handleHeartbeat(r, message);
      return;
    case "snapshot":
      r.becomeFollower(message.term, message.from);
      handleSnapshot(r, message);
      return;
    case "voteResponse":
    case "preVoteResponse": {
      if (message.type !== expectedResponse) return;
      const tally = poll(r, message.from, message.type, !message.reject);
      r.logger.info(
        `${r.id} has received ${tally.granted} ${message.type} votes and ${tally.rejected} vote rejections`,
      );
      if (tally.result === "won") {
        if (r.role === "preCandidate") {
          campaign(r, "election");
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (tally.result === "lost") {
        // A pre-vote response carries the future term; stay in ours.
        r.becomeFollower(r.term, null);
      }
      return;
    }
    case "timeoutNow":
      r.logger.debug(
        `${r.id} [term ${r.term} state ${r.role}] ignored timeoutNow from ${message.from}`,
      );
      return;
    default:
      return;
  }
}

function handleHeartbeat(r: Raft, message: HeartbeatMessage): void {
  r.raftLog.commitTo(message.commit);
  if (message.quiesce) {
    // No response: the leader has gone quiet and a response would wake it.
    quiesceFollower(r);
    return;
  }
  r.send({
    type: "heartbeatResponse",
    from: r.id,
    to: message.from,
    term: r.term,
    readRound: message.readRound,
  });
}

function handleSnapshot(r: Raft, message: SnapshotMessage): void {
  const { index, term } = message.snapshot.metadata;
  const restored = restoreSnapshot(r, message.snapshot);
  if (!restored) {
    r.logger.info(
      `${r.id} [commit: ${r.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
    );
  }
  r.send({
    type: "appendResponse",
    from: r.id,
    to: message.from,
    term: r.term,
    index: restored ? r.raftLog.lastIndex() : r.raftLog.committed,
    reject: false,
    rejectHintIndex: 0,
    rejectHintTerm: 0,
  });
}
