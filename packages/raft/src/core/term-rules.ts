/**
 * The term rules every incoming message goes through before its type is
 * considered (Raft §5.1, with the PreVote and CheckQuorum refinements of the
 * thesis §9.6 and §4.2.3, as in etcd's raft.Step).
 */
import type { Message } from "../message.ts";
import type { Raft } from "./raft.ts";

/**
 * Decides whether a message with a higher term than ours is acted upon, and
 * moves to that term if so. Returns false if the message must be ignored.
 */
export function acceptHigherTerm(r: Raft, message: Message): boolean {
  if (message.type === "vote" || message.type === "preVote") {
    const inLease =
      r.config.checkQuorum && r.lead !== null && r.electionElapsed < r.config.electionTimeoutTicks;
    if (!message.transfer && inLease) {
      // Raft thesis §4.2.3: while we hear from a current leader, a vote
      // request (from a removed or partitioned node) must not disrupt us.
      const last = r.raftLog.lastEntryId();
      r.logger.info(
        `${r.id} [logterm: ${last.term}, index: ${last.index}, vote: ${r.vote ?? "none"}] ignored ${message.type} from ${message.from} [logterm: ${message.lastTerm}, index: ${message.lastIndex}] at term ${r.term}: lease is not expired (remaining ticks: ${r.config.electionTimeoutTicks - r.electionElapsed})`,
      );
      return false;
    }
  }
  if (message.type === "preVote") return true; // never change term for a PreVote
  if (message.type === "preVoteResponse" && !message.reject) {
    // Granted pre-votes carry the term we would campaign in; we move to it
    // only once we win the pre-election.
    return true;
  }
  r.logger.info(
    `${r.id} [term: ${r.term}] received a ${message.type} message with higher term from ${message.from} [term: ${message.term}]`,
  );
  const fromLeader =
    message.type === "append" || message.type === "heartbeat" || message.type === "snapshot";
  r.becomeFollower(message.term, fromLeader ? message.from : null);
  return true;
}

/** Answers (or ignores) a message from an older term; it is never acted upon. */
export function handleLowerTerm(r: Raft, message: Message): void {
  if (
    (r.config.checkQuorum || r.config.preVote) &&
    (message.type === "heartbeat" || message.type === "append")
  ) {
    // A stale leader keeps sending. With CheckQuorum or PreVote we do not
    // bump terms on vote requests, so tell it our term explicitly or it
    // might never step down.
    r.send({
      type: "appendResponse",
      from: r.id,
      to: message.from,
      term: r.term,
      index: 0,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    });
  } else if (message.type === "preVote") {
    const last = r.raftLog.lastEntryId();
    r.logger.info(
      `${r.id} [logterm: ${last.term}, index: ${last.index}, vote: ${r.vote ?? "none"}] rejected ${message.type} from ${message.from} [logterm: ${message.lastTerm}, index: ${message.lastIndex}] at term ${r.term}`,
    );
    r.send({
      type: "preVoteResponse",
      from: r.id,
      to: message.from,
      term: r.term,
      reject: true,
    });
  } else {
    r.logger.info(
      `${r.id} [term: ${r.term}] ignored a ${message.type} message with lower term from ${message.from} [term: ${message.term}]`,
    );
  }
}
