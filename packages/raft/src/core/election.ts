/**
 * Leader election (Raft §5.2) with PreVote (thesis §9.6): campaigning,
 * counting votes, and deciding whether to grant a vote.
 */
import type { VoteMessage } from "../message.ts";
import type { NodeId } from "../types.ts";
import type { Raft } from "./raft.ts";

/**
 * - "preElection": the PreVote rehearsal; nothing changes unless a quorum
 *   would vote for us.
 * - "election": a real election in the next term.
 * - "transfer": a real election asked for by the leader (TimeoutNow); it
 *   skips PreVote and may break leader leases.
 */
export type CampaignKind = "preElection" | "election" | "transfer";

/** Starts an election if this node may: the entry point of timeouts and `campaign()`. */
export function hup(r: Raft, reason: "election" | "transfer"): void {
  if (r.role === "leader") {
    r.logger.debug(`${r.id} ignoring campaign because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${r.id} is unpromotable and can not campaign`);
    return;
  }
  if (hasUnappliedConfChanges(r)) {
    // The configuration we would campaign under may be about to change. A
    // leader handing over after its own removal often asks exactly then:
    // its transferee learns the change is committed with the TimeoutNow.
    if (reason === "transfer") r.campaignWhenApplied = true;
    r.logger.warn(
      `${r.id} cannot campaign at term ${r.term} since there are still pending configuration changes to apply`,
    );
    return;
  }
  r.logger.info(`${r.id} is starting a new election at term ${r.term}`);
  const kind: CampaignKind =
    reason === "transfer" ? "transfer" : r.config.preVote ? "preElection" : "election";
  campaign(r, kind);
}

/** Runs the transfer campaign deferred by `hup` once the configuration changes are applied. */
export function campaignIfAskedBeforeApplied(r: Raft): void {
  if (!r.campaignWhenApplied || r.role !== "follower" || hasUnappliedConfChanges(r)) return;
  r.campaignWhenApplied = false;
  r.logger.info(`${r.id} applied the pending configuration changes; campaigning as asked`);
  hup(r, "transfer");
}

/** Whether committed but unapplied entries include a configuration change. */
function hasUnappliedConfChanges(r: Raft): boolean {
  const log = r.raftLog;
  // Page through the range so a long unapplied tail is not read at once.
  let low = log.applied + 1;
  const high = log.committed + 1;
  while (low < high) {
    const page = log.slice(low, high, r.config.committedEntriesPerReadyBytesMax);
    if (page === undefined || page.length === 0) return false;
    if (page.some((entry) => entry.type === "confChange")) return true;
    low += page.length;
  }
  return false;
}

export function campaign(r: Raft, kind: CampaignKind): void {
  let term: number;
  let voteType: VoteMessage["type"];
  if (kind === "preElection") {
    r.becomePreCandidate();
    voteType = "preVote";
    // Pre-votes ask about the term we would move to, without moving.
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteType = "vote";
    term = r.term;
  }
  const responseType = voteType === "vote" ? "voteResponse" : "preVoteResponse";
  const last = r.raftLog.lastEntryId();
  for (const id of r.tracker.memberIds()) {
    if (!r.tracker.isVoter(id)) continue;
    if (id === r.id) {
      // Our own vote counts once it is persisted: the response to ourselves
      // is stepped on advance().
      r.send({ type: responseType, from: r.id, to: r.id, term, reject: false });
      continue;
    }
    r.logger.info(
      `${r.id} [logterm: ${last.term}, index: ${last.index}] sent ${voteType} request to ${id} at term ${r.term}`,
    );
    r.send({
      type: voteType,
      from: r.id,
      to: id,
      term,
      lastIndex: last.index,
      lastTerm: last.term,
      transfer: kind === "transfer",
    });
  }
}

/** Records a vote and returns the tally. */
export function poll(r: Raft, from: NodeId, type: string, granted: boolean) {
  if (granted) r.logger.info(`${r.id} received ${type} from ${from} at term ${r.term}`);
  else r.logger.info(`${r.id} received ${type} rejection from ${from} at term ${r.term}`);
  if (r.config.testingBugs.countVotesPerMessage === true && granted && r.tracker.votes.has(from)) {
    // TEST-ONLY BUG: a repeated grant counts as one more voter's grant.
    const uncounted = r.tracker
      .memberIds()
      .find((id) => r.tracker.isVoter(id) && !r.tracker.votes.has(id));
    if (uncounted !== undefined) r.tracker.recordVote(uncounted, true);
  }
  r.tracker.recordVote(from, granted);
  return r.tracker.tallyVotes();
}

/** Decides a (pre-)vote request whose term is at least ours. */
export function handleVoteRequest(r: Raft, message: VoteMessage): void {
  const canVote =
    // a repeat of a vote we already cast,
    r.vote === message.from ||
    // or we have not voted and know no leader in this term,
    (r.vote === null && r.lead === null) ||
    // or a pre-vote for a future term.
    (message.type === "preVote" && message.term > r.term);
  const last = r.raftLog.lastEntryId();
  const candidate = { index: message.lastIndex, term: message.lastTerm };
  const responseType = message.type === "vote" ? "voteResponse" : "preVoteResponse";
  const describe = `${r.id} [logterm: ${last.term}, index: ${last.index}, vote: ${r.vote ?? "none"}]`;
  const candidateLog = `[logterm: ${candidate.term}, index: ${candidate.index}] at term ${r.term}`;
  if (canVote && r.raftLog.isUpToDate(candidate)) {
    // Learners vote too: a learner may have been promoted without knowing
    // it yet, and the candidate that knows may need its vote.
    r.logger.info(`${describe} cast ${message.type} for ${message.from} ${candidateLog}`);
    // Answer with the request's term: a pre-candidate ignores responses
    // from terms other than the one it asked about.
    r.send({ type: responseType, from: r.id, to: message.from, term: message.term, reject: false });
    if (message.type === "vote") {
      r.electionElapsed = 0;
      r.vote = message.from;
    }
  } else {
    r.logger.info(`${describe} rejected ${message.type} from ${message.from} ${candidateLog}`);
    r.send({ type: responseType, from: r.id, to: message.from, term: r.term, reject: true });
  }
}
