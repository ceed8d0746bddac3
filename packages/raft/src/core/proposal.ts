/**
 * Proposals: admitting new entries at the leader (with the limits and the
 * configuration-change rules), forwarding them from followers, and the
 * bookkeeping when the application reports entries applied.
 */
import { applyConfChangeToConfig, ConfChangeError } from "../confchange/changer.ts";
import {
  type ConfChange,
  confStatesEqual,
  type EntryPayload,
  entryPayloadBytes,
  type LogIndex,
  leaveJointChange,
  type NodeId,
  type Term,
} from "../types.ts";
import { campaignIfAskedBeforeApplied } from "./election.ts";
import type { Raft } from "./raft.ts";
import { bcastAppend } from "./replication.ts";

export type ProposalDropReason =
  /** No leader is known (an election is under way); retry later. */
  | "noLeader"
  /** A leadership transfer is in progress (or the leader was removed and hands over); retry at the new leader. */
  | "transferInProgress"
  /** The leader's uncommitted tail is full (a quorum is slow or unreachable). */
  | "uncommittedLimit"
  /** Followers are configured not to forward proposals. */
  | "forwardingDisabled"
  /** A configuration change is still pending, or the leader has not yet committed in its term. */
  | "confChangePending"
  /** The configuration change is invalid against the current configuration. */
  | "invalidConfChange"
  /** The change's `expectedConfState` is not the active configuration. */
  | "confStateMismatch";

/**
 * The outcome of a proposal. "appended" gives the index and term the leader
 * used; the entry is committed only if it later appears at that index with
 * that term. "forwarded" means the leader will decide; a dropped forward is
 * not reported back, so callers retry on a timeout (see ClientSessionTable
 * for making retries safe).
 */
export type ProposeResult =
  | { readonly status: "appended"; readonly index: LogIndex; readonly term: Term }
  | { readonly status: "forwarded"; readonly to: NodeId }
  | { readonly status: "dropped"; readonly reason: ProposalDropReason };

const dropped = (reason: ProposalDropReason): ProposeResult => ({ status: "dropped", reason });

/** A proposal made on this node. */
export function propose(r: Raft, payload: EntryPayload): ProposeResult {
  switch (r.role) {
    case "leader":
      return proposeAsLeader(r, [payload]);
    case "follower":
      if (r.lead === null) return dropped("noLeader");
      if (r.config.disableProposalForwarding) return dropped("forwardingDisabled");
      r.send({ type: "propose", from: r.id, to: r.lead, term: 0, entries: [payload] });
      return { status: "forwarded", to: r.lead };
    default:
      r.logger.info(`${r.id} no leader at term ${r.term}; dropping proposal`);
      return dropped("noLeader");
  }
}

/**
 * Appends proposals at the leader. Configuration changes that cannot be
 * accepted now are left out of a batch (a single one is reported as dropped).
 */
export function proposeAsLeader(r: Raft, payloads: readonly EntryPayload[]): ProposeResult {
  if (r.leadTransferee !== null || r.handingOver) {
    r.logger.debug(
      `${r.id} [term ${r.term}] transfer to ${r.leadTransferee} in progress; dropping proposal`,
    );
    return dropped("transferInProgress");
  }
  const accepted: EntryPayload[] = [];
  let refusal: ProposalDropReason = "invalidConfChange";
  for (const payload of payloads) {
    if (payload.type === "confChange") {
      const reason = confChangeRefusal(r, payload.change);
      if (reason !== null) {
        refusal = reason;
        continue;
      }
      r.pendingConfIndex = r.raftLog.lastIndex() + accepted.length + 1;
    }
    accepted.push(payload);
  }
  if (accepted.length === 0) return dropped(refusal);
  if (!r.appendEntry(accepted)) return dropped("uncommittedLimit");
  bcastAppend(r);
  return { status: "appended", index: r.raftLog.lastIndex(), term: r.term };
}

/**
 * Why a configuration change cannot be proposed now, or null if it can. At
 * most one change may be pending, and a new leader waits for its first entry
 * to be applied (pendingConfIndex). The change is then checked against the
 * active configuration, which is the one it will apply to.
 */
function confChangeRefusal(r: Raft, change: ConfChange): ProposalDropReason | null {
  if (r.pendingConfIndex > r.raftLog.applied) {
    r.logger.info(
      `${r.id} ignoring conf change: possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`,
    );
    return "confChangePending";
  }
  // With at most one change pending, and none before the leader's first
  // entry is applied, the active configuration is exactly the one the change
  // will be applied to: checking the condition here is checking it there.
  const expected = change.expectedConfState;
  if (expected !== undefined && !confStatesEqual(expected, r.tracker.confState())) {
    r.logger.info(`${r.id} ignoring conf change: the configuration is not the expected one`);
    return "confStateMismatch";
  }
  try {
    applyConfChangeToConfig(r.tracker.config, change);
  } catch (error) {
    if (!(error instanceof ConfChangeError)) throw error;
    r.logger.info(`${r.id} ignoring conf change: ${error.message}`);
    return "invalidConfChange";
  }
  return null;
}

/**
 * Bookkeeping once the application has applied entries up to `index`
 * (`payloadBytes` of them): the uncommitted tail shrinks, and a leader in a
 * joint configuration it should leave on its own proposes leaving it.
 */
export function appliedTo(r: Raft, index: LogIndex, payloadBytes: number): void {
  const applied = Math.max(index, r.raftLog.applied);
  r.raftLog.appliedTo(applied);
  r.reduceUncommittedBytes(payloadBytes);
  if (r.tracker.config.autoLeave && applied >= r.pendingConfIndex && r.role === "leader") {
    // The empty change has no payload, so the size limit never refuses it;
    // a transfer in progress may, and then we try again at the next apply.
    const result = proposeAsLeader(r, [{ type: "confChange", change: leaveJointChange() }]);
    if (result.status === "appended") {
      r.logger.info(`${r.id} initiating automatic transition out of joint configuration`);
    } else {
      r.logger.debug(`${r.id} not leaving joint configuration yet: ${result.status}`);
    }
  }
  campaignIfAskedBeforeApplied(r);
}

export function payloadBytesOf(payloads: readonly EntryPayload[]): number {
  let bytes = 0;
  for (const payload of payloads) bytes += entryPayloadBytes(payload);
  return bytes;
}
