/**
 * Log replication (Raft §5.3): how the leader sends appends, snapshots and
 * heartbeats, how it advances the commit index, and how a follower checks
 * and accepts an append.
 */
import { assert, fail } from "../assert.ts";
import type { AppendMessage } from "../message.ts";
import { isStorageError } from "../storage/storage.ts";
import type { Progress } from "../tracker/progress.ts";
import { type Entry, entryBytes, type NodeId, type Snapshot } from "../types.ts";
import type { Raft } from "./raft.ts";

function progressOf(r: Raft, to: NodeId): Progress {
  const progress = r.tracker.progress.get(to);
  if (progress === undefined) fail(`no progress for ${to}`);
  return progress;
}

/** Sends an append to `to`, even an empty one (which carries the commit index). */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends the next batch of entries to `to` if its flow allows it. Returns
 * whether a message went out. With `sendIfEmpty` false nothing is sent when
 * there are no entries, so callers can loop to fill the in-flight window.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const progress = progressOf(r, to);
  if (progress.isPaused()) return false;

  const prevIndex = progress.next - 1;
  const prevTerm = r.raftLog.term(prevIndex);
  // The entry before `next` is compacted: only a snapshot can catch up.
  if (prevTerm === undefined) return maybeSendSnapshot(r, to, progress);

  let entries: readonly Entry[] = [];
  // A replicating follower with a full window only gets empty appends: they
  // still let it acknowledge (or reject) and so free the window if the
  // messages that filled it were lost.
  if (progress.state !== "replicate" || !progress.inflights.full()) {
    const read = r.raftLog.entriesFrom(progress.next, r.config.appendMessageBytesMax);
    if (read === undefined) return maybeSendSnapshot(r, to, progress);
    entries = read;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;

  const commit = r.raftLog.committed;
  r.send({ type: "append", from: r.id, to, term: r.term, prevIndex, prevTerm, entries, commit });
  let bytes = 0;
  for (const entry of entries) bytes += entryBytes(entry);
  progress.sentEntries(entries.length, bytes);
  progress.sentCommit = commit;
  return true;
}

/** Sends the latest snapshot to `to`; false if none can be sent now. */
function maybeSendSnapshot(r: Raft, to: NodeId, progress: Progress): boolean {
  // A snapshot can be large: don't send one to a peer we haven't heard from.
  if (!progress.recentActive) {
    r.logger.debug(`ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  let snapshot: Snapshot;
  try {
    snapshot = r.raftLog.snapshot();
  } catch (error) {
    if (isStorageError(error, "snapshotTemporarilyUnavailable")) {
      r.logger.debug(`${r.id} failed to send snapshot to ${to}: temporarily unavailable`);
      return false;
    }
    throw error;
  }
  const { index, term } = snapshot.metadata;
  assert(index > 0, "a compacted log implies a non-empty snapshot");
  r.logger.debug(
    `${r.id} [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${progress.describe()}]`,
  );
  progress.becomeSnapshot(index);
  r.send({ type: "snapshot", from: r.id, to, term: r.term, snapshot });
  return true;
}

/**
 * Sends a heartbeat. Its commit index never exceeds what the follower is
 * known to hold, since a follower can only commit entries it has.
 */
export function sendHeartbeat(r: Raft, to: NodeId, readRound: number, quiesce: boolean): void {
  const progress = progressOf(r, to);
  const commit = Math.min(progress.match, r.raftLog.committed);
  r.send({ type: "heartbeat", from: r.id, to, term: r.term, commit, readRound, quiesce });
  progress.sentCommit = commit;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.tracker.memberIds()) {
    if (id !== r.id) sendAppend(r, id);
  }
}

export function bcastHeartbeat(r: Raft): void {
  const round = r.readOnly.heartbeatRound();
  for (const id of r.tracker.memberIds()) {
    if (id !== r.id) sendHeartbeat(r, id, round, false);
  }
}

/**
 * Advances the commit index to what a quorum has acknowledged, if the entry
 * there is from the current term (Raft §5.4.2). Returns whether it moved.
 */
export function maybeCommit(r: Raft): boolean {
  const index = r.tracker.committed();
  if (r.config.testingBugs.commitPriorTermByCounting === true) {
    // TEST-ONLY BUG: passing the entry's own term skips the current-term rule.
    return r.raftLog.maybeCommit(index, r.raftLog.termOrZero(index));
  }
  return r.raftLog.maybeCommit(index, r.term);
}

function respondToAppend(r: Raft, to: NodeId, index: number): void {
  r.send({
    type: "appendResponse",
    from: r.id,
    to,
    term: r.term,
    index,
    reject: false,
    rejectHintIndex: 0,
    rejectHintTerm: 0,
  });
}

/** A follower's side of AppendEntries. */
export function handleAppendEntries(r: Raft, message: AppendMessage): void {
  if (message.prevIndex < r.raftLog.committed) {
    // Everything up to our commit index already matches; say so.
    respondToAppend(r, message.from, r.raftLog.committed);
    return;
  }
  const prev = { index: message.prevIndex, term: message.prevTerm };
  const lastNewIndex = r.raftLog.maybeAppend(prev, message.entries, message.commit);
  if (lastNewIndex !== undefined) {
    respondToAppend(r, message.from, lastNewIndex);
    return;
  }
  // Mismatch. Hint the largest (index, term) at which our logs may match,
  // skipping every entry of ours whose term is above the leader's term at
  // prevIndex; etcd's raft.go explains the scenario at length.
  const hint = r.raftLog.findConflictByTerm(
    Math.min(message.prevIndex, r.raftLog.lastIndex()),
    message.prevTerm,
  );
  r.logger.debug(
    `${r.id} [logterm: ${r.raftLog.termOrZero(message.prevIndex)}, index: ${message.prevIndex}] rejected append [logterm: ${message.prevTerm}, index: ${message.prevIndex}] from ${message.from}`,
  );
  r.send({
    type: "appendResponse",
    from: r.id,
    to: message.from,
    term: r.term,
    index: message.prevIndex,
    reject: true,
    rejectHintIndex: hint.index,
    rejectHintTerm: hint.term,
  });
}
