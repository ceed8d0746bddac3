/**
 * Quiescence: idle groups go quiet so that a server hosting thousands of
 * groups spends nothing on the idle ones (CockroachDB's quiesced ranges,
 * TiKV's hibernate regions). See README "Quiescence" for the caller's side.
 *
 * Going quiet. At a heartbeat tick, a leader whose log is fully committed,
 * applied and persisted, with no read, transfer or joint-configuration work
 * pending, and whose live followers all hold its whole log (the live,
 * caught-up voters forming a quorum) sends heartbeats flagged `quiesce`
 * instead of ordinary ones and stops. A follower receiving one (from its
 * leader, in its term) goes quiet too, without answering. Quiet nodes ignore
 * ticks, so the caller may stop ticking them.
 *
 * Dead followers do not keep a leader awake (the pitfall of tikv#19070,
 * where one dead node made every leader heartbeat again): followers the
 * caller reported dead are left out of the "caught up" check.
 *
 * Waking. Any incoming message or local request wakes a node. A follower
 * woken by anything other than its leader tells its leader (a heartbeat
 * response), so the leader resumes heartbeats before the follower's election
 * timer runs out. A quiet leader re-quiesces at a later heartbeat tick if it
 * is still idle.
 *
 * Liveness changes (`peerLivenessChanged`) wake only groups they matter to:
 *  - a follower whose leader died wakes and forgets that leader (so the lease
 *    does not delay the new election), and campaigns after a random 1 to T
 *    ticks (T: the election timeout) rather than its usual T to 2T since it
 *    last heard from the leader, so the groups that lost their leader elect
 *    promptly yet spread over T rather than all at once;
 *  - a quiet leader wakes if the live voters no longer form a quorum (it
 *    will step down by CheckQuorum), or if a peer that is behind comes back;
 *  - every other group stays asleep.
 * And a node whose live voters (as reported) do not form a quorum does not
 * start elections on timeout: an isolated server does not make every one of
 * its groups campaign every election timeout.
 */
import type { Message } from "../message.ts";
import { jointVoteResult } from "../quorum/joint.ts";
import type { NodeId } from "../types.ts";
import type { Raft } from "./raft.ts";
import { bcastHeartbeat, sendHeartbeat } from "./replication.ts";

/** Whether the voters not reported dead (and this node) form a quorum. */
export function liveVotersFormQuorum(r: Raft): boolean {
  if (r.deadPeers.size === 0) return true;
  const alive = new Map<NodeId, boolean>();
  for (const id of r.tracker.memberIds()) alive.set(id, id === r.id || !r.deadPeers.has(id));
  return jointVoteResult(r.tracker.config.voters, alive) === "won";
}

/** Called by the leader at a heartbeat tick; returns true if it went quiet. */
export function maybeQuiesce(r: Raft): boolean {
  if (!r.config.quiesce || r.role !== "leader" || !isIdle(r)) return false;
  const last = r.raftLog.lastIndex();
  const caughtUp = new Map<NodeId, boolean>();
  for (const id of r.tracker.memberIds()) {
    if (id === r.id) {
      caughtUp.set(id, true);
      continue;
    }
    if (r.deadPeers.has(id)) continue;
    const progress = r.tracker.progress.get(id);
    // A live follower that is behind still needs us.
    if (progress === undefined || progress.match !== last) return false;
    caughtUp.set(id, true);
  }
  if (jointVoteResult(r.tracker.config.voters, caughtUp) !== "won") return false;
  for (const id of r.tracker.memberIds()) {
    if (id !== r.id) sendHeartbeat(r, id, 0, true);
  }
  r.quiesced = true;
  r.logger.debug(`${r.id} quiesced at term ${r.term}, index ${last}`);
  return true;
}

function isIdle(r: Raft): boolean {
  const log = r.raftLog;
  const last = log.lastIndex();
  return (
    r.leadTransferee === null &&
    r.readOnly.pendingCount === 0 &&
    r.pendingReadRequests.length === 0 &&
    log.committed === last &&
    log.applied === last &&
    !log.hasNextOrInProgressUnstableEntries() &&
    // A joint configuration the leader must leave is pending work.
    !r.tracker.config.autoLeave
  );
}

/** A follower received a quiesce heartbeat from its leader. */
export function quiesceFollower(r: Raft): void {
  if (!r.config.quiesce) return;
  r.quiesced = true;
  r.electionElapsed = 0;
}

/** How a node woke up, which decides what it does on waking. */
export type WakeCause = "localRequest" | "message" | "messageFromLeader" | "liveness";

export function wake(r: Raft, cause: WakeCause): void {
  if (!r.quiesced) return;
  r.quiesced = false;
  r.electionElapsed = 0;
  r.logger.debug(`${r.id} woke up (${cause}) at term ${r.term}`);
  if (r.role === "leader") {
    r.heartbeatElapsed = 0;
    // Give every follower one CheckQuorum round to be heard from again.
    r.tracker.visit((_, progress) => {
      progress.recentActive = true;
    });
    // Wake the followers now, unless a local request is about to send them
    // appends anyway.
    if (cause !== "localRequest") bcastHeartbeat(r);
    return;
  }
  r.resetRandomizedElectionTimeout();
  if ((cause === "localRequest" || cause === "message") && r.lead !== null && r.lead !== r.id) {
    r.send({ type: "heartbeatResponse", from: r.id, to: r.lead, term: r.term, readRound: 0 });
  }
}

/** Called before a quiet node handles `message`. */
export function wakeOnMessage(r: Raft, message: Message): void {
  const fromLeader = message.from === r.lead && message.term === r.term;
  // A repeated quiesce heartbeat must not wake us.
  if (fromLeader && message.type === "heartbeat" && message.quiesce) return;
  wake(r, fromLeader ? "messageFromLeader" : "message");
}

/** The caller's report that a peer became reachable or unreachable. */
export function peerLivenessChanged(r: Raft, id: NodeId, alive: boolean): void {
  if (id === r.id) return;
  if (alive) r.deadPeers.delete(id);
  else r.deadPeers.add(id);

  if (!alive && r.role === "follower" && r.lead === id) {
    r.logger.info(`${r.id} forgetting leader ${id} at term ${r.term}: reported unreachable`);
    r.lead = null;
    wake(r, "liveness");
    // Only PreVote with CheckQuorum makes an early campaign harmless.
    if (r.config.preVote && r.config.checkQuorum) campaignSoon(r);
    return;
  }
  if (!r.quiesced || r.role !== "leader") return;
  if (!alive && !liveVotersFormQuorum(r)) {
    wake(r, "liveness");
    return;
  }
  const progress = r.tracker.progress.get(id);
  if (alive && progress !== undefined && progress.match < r.raftLog.lastIndex()) {
    wake(r, "liveness");
  }
}

/**
 * Brings the follower's next campaign forward to a uniformly random 1 to T
 * ticks from now (T: the election timeout), instead of T to 2T after it
 * last heard from the leader. The delay stays random so that the survivors
 * of a group rarely collide and the thousands of groups a dead server led
 * still elect spread over T. It is safe under one-way or false reports:
 * the campaign starts with PreVote, and voters that still hear from the
 * leader refuse it (CheckQuorum's lease), so terms do not inflate.
 */
function campaignSoon(r: Raft): void {
  const delayTicks = 1 + r.config.random.nextInt(r.config.electionTimeoutTicks);
  r.electionElapsed = Math.max(r.electionElapsed, r.randomizedElectionTimeout - delayTicks);
}
