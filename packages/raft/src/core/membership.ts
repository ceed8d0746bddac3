/**
 * Membership: switching the active configuration when a change is applied
 * or a snapshot is restored. A configuration takes effect when applied (not
 * when appended), as in etcd.
 */
import { applyConfChangeToConfig, configFromConfState } from "../confchange/changer.ts";
import { describeConfig, type TrackerConfig } from "../tracker/tracker.ts";
import type { ConfChange, ConfState, NodeId, Snapshot } from "../types.ts";
import type { Raft } from "./raft.ts";
import { bcastAppend, maybeCommit, maybeSendAppend } from "./replication.ts";
import { transferLeadership } from "./step-leader.ts";

/**
 * Installs a configuration and reacts to it: the leader re-evaluates the
 * commit index under the new quorum and reaches out to new members at once;
 * a leader that is no longer a voter hands leadership over (see
 * `startHandover`).
 */
export function switchToConfig(r: Raft, config: TrackerConfig): ConfState {
  r.tracker.setConfig(config, r.raftLog.lastIndex());
  r.logger.info(`${r.id} switched to configuration ${describeConfig(config)}`);
  const confState = r.tracker.confState();
  const self = r.tracker.progress.get(r.id);
  r.isLearner = self?.isLearner ?? false;

  if (r.role !== "leader") return confState;
  if (confState.voters.length === 0) {
    r.becomeFollower(r.term, null);
    return confState;
  }

  if (maybeCommit(r)) {
    bcastAppend(r);
  } else {
    for (const id of r.tracker.memberIds()) {
      if (id !== r.id) maybeSendAppend(r, id, false);
    }
  }
  if (r.leadTransferee !== null && !r.tracker.isVoter(r.leadTransferee)) r.abortLeaderTransfer();
  if (self === undefined || r.isLearner) startHandover(r);
  return confState;
}

/**
 * A leader that has applied (so committed) a configuration in which it is
 * no longer a voter hands over instead of just stepping down. Stepping down
 * at once can strand the group (etcd-io/etcd#10563): the old leader often
 * holds the newest log, survivors that have not yet learnt the change is
 * committed still count it as a voter, and it refuses their votes because
 * their logs are behind. So, as the thesis's §4.2.2 leader "manages a cluster
 * that does not include itself" until Cnew is committed, this one keeps
 * leading in the new configuration (its own log no longer counts toward
 * commitment) without accepting proposals, catches up the voter of the new
 * configuration with the highest match index, and sends it TimeoutNow. If no
 * transfer completes within an election timeout it steps down (raft.ts).
 */
function startHandover(r: Raft): void {
  let target: NodeId | null = null;
  let targetMatch = -1;
  r.tracker.visit((id, progress) => {
    // Ids are visited in sorted order, so ties go to the smallest id.
    if (id === r.id || !r.tracker.isVoter(id) || progress.match <= targetMatch) return;
    target = id;
    targetMatch = progress.match;
  });
  if (target === null) {
    r.logger.info(`${r.id} stepping down: no longer a voter, and no voter to hand over to`);
    r.becomeFollower(r.term, null);
    return;
  }
  r.logger.info(`${r.id} is no longer a voter; handing leadership over to ${target}`);
  r.handingOver = true;
  transferLeadership(r, target);
}

/** Applies a committed configuration change; throws ConfChangeError if it is invalid. */
export function applyConfChange(r: Raft, change: ConfChange): ConfState {
  return switchToConfig(r, applyConfChangeToConfig(r.tracker.config, change));
}

/**
 * Replaces the follower's log and configuration with a snapshot from the
 * leader. Returns false if the snapshot is ignored (not newer than what we
 * committed, or we already hold its last entry and just fast-forward).
 */
export function restoreSnapshot(r: Raft, snapshot: Snapshot): boolean {
  const { index, term, confState } = snapshot.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.role !== "follower") {
    // Defense in depth: only a follower may restore (the caller of
    // handleSnapshot guarantees it).
    r.logger.warn(`${r.id} attempted to restore snapshot as ${r.role}; should never happen`);
    r.becomeFollower(r.term + 1, null);
    return false;
  }
  const members = [...confState.voters, ...confState.learners, ...confState.votersOutgoing];
  if (!members.includes(r.id)) {
    r.logger.warn(`${r.id} attempted to restore snapshot but it is not in the configuration`);
    return false;
  }
  if (r.raftLog.matchTerm(index, term)) {
    const last = r.raftLog.lastEntryId();
    r.logger.info(
      `${r.id} [commit: ${r.raftLog.committed}, lastindex: ${last.index}, lastterm: ${last.term}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
    );
    r.raftLog.commitTo(index);
    return false;
  }
  if (r.raftLog.applying > r.raftLog.applied) {
    // Committed entries are still being applied (their Ready is not yet
    // advanced). A configuration change among them would be applied, by
    // applyConfChange, on top of the snapshot's newer configuration. Refuse
    // for now: the leader sends the snapshot again.
    r.logger.info(
      `${r.id} [applied: ${r.raftLog.applied}, applying: ${r.raftLog.applying}] ignored snapshot [index: ${index}, term: ${term}] while applying committed entries`,
    );
    return false;
  }
  r.raftLog.restore(snapshot);
  r.tracker.progress.clear();
  switchToConfig(r, configFromConfState(confState));
  const last = r.raftLog.lastEntryId();
  r.logger.info(
    `${r.id} [commit: ${r.raftLog.committed}, lastindex: ${last.index}, lastterm: ${last.term}] restored snapshot [index: ${index}, term: ${term}]`,
  );
  return true;
}
