import { type ServerName, serverOfUser } from "@parley/protocol";
import type { NormalEntry, Snapshot } from "@parley/raft";
import {
  type ControlEntry,
  decodeControlEntry,
  isServerAllowed,
  type RoomState,
} from "@parley/room";
import type { GroupApplier } from "../consensus/raft-group.ts";
import { membershipMatches, nextMembershipStep } from "../consensus/sponsor-membership.ts";
import { decodeControlRecord, encodeControlRecord } from "../control-lane/control-record.ts";
import { recordBatches } from "../control-lane/record-batches.ts";
import {
  decodeControlSnapshot,
  encodeControlSnapshot,
  RoomReplica,
} from "../control-lane/room-replica.ts";
import type { AttachFrame, ControlFrame, SubmissionOutcome, SubmitFrame } from "../frames/frame.ts";
import { attachedLeavesPerRoomMax, sponsorEffectsPendingMax } from "../limits.ts";
import { applyObserved } from "./applied-event.ts";
import { trackSponsorSet } from "./certification.ts";
import type { FederationEvent } from "./effects.ts";
import type { HostContext } from "./host-context.ts";
import type { RoomSession } from "./room-session.ts";

/**
 * The applier of a room's Raft group: committed records go into the
 * replica, and the follow-up (feeding leaves, releasing held messages,
 * resolving proposals, remembering sponsor effects) is recorded on the
 * session for the host to act on after the Raft round.
 */
export function sponsorApplier(context: HostContext, session: RoomSession): GroupApplier {
  return {
    applyEntry(entry: NormalEntry): void {
      try {
        decodeControlRecord(entry.data);
      } catch {
        // Every sponsor decodes the same bytes the same way, so skipping an
        // undecodable entry keeps control indexes equal everywhere. Proposals
        // are checked before proposing, so only a faulty sponsor gets here.
        return;
      }
      applyRecord(context, session, entry.data);
    },
    restoreSnapshot(snapshot: Snapshot): void {
      const controlSnapshot = decodeControlSnapshot(snapshot.data);
      session.replica = RoomReplica.fromSnapshot(session.room, controlSnapshot);
      trackSponsorSet(session);
      context.outbox.emit({
        type: "state-restored",
        room: session.room,
        index: controlSnapshot.index,
      });
      session.lane.controlAdvanced();
    },
    snapshotData(): Uint8Array {
      return encodeControlSnapshot(session.replica.snapshot());
    },
    configurationChanged(): void {
      session.configurationChanged = true;
    },
  };
}

/** Applies one committed record on this server (sponsor or leaf) and reports it. */
export function applyRecord(context: HostContext, session: RoomSession, bytes: Uint8Array): void {
  const applied = applyObserved(session.replica, bytes, (event) => {
    context.outbox.emit(event);
    if (event.type === "control-applied") announceInvites(context, session, event);
  });
  session.newRecords.push(applied.at);
  trackSponsorSet(session);
  const { record, outcome } = applied;
  if (record.proposer === context.self && session.pendingProposals.delete(record.proposalId)) {
    context.outbox.emit({
      type: "submission-result",
      room: session.room,
      requestId: record.proposalId,
      outcome: { kind: "committed", index: applied.index, outcome },
    });
  }
  if (outcome.verdict === "accepted") {
    for (const effect of outcome.effects) {
      if (session.sponsorEffects.length < sponsorEffectsPendingMax)
        session.sponsorEffects.push(effect);
    }
  }
  session.lane.controlAdvanced();
}

/**
 * The group's leader tells the server of each newly invited user that takes
 * no part in the room (neither sponsor nor attached leaf) where to find it.
 * One sender is enough: the frame travels on the durable queue. A server the
 * room's sponsor policy is bringing into the sponsor set (an admin's invite)
 * needs no notice: it learns the room as a new Raft member.
 */
function announceInvites(
  context: HostContext,
  session: RoomSession,
  applied: Extract<FederationEvent, { type: "control-applied" }>,
): void {
  if (!session.isSponsor || session.group?.role !== "leader") return;
  const sponsors = [...session.replica.sponsors].sort();
  const outcome = applied.outcome;
  const wanted = new Set(
    outcome.verdict === "accepted"
      ? outcome.effects.filter((effect) => effect.type === "sponsor-wanted").map((e) => e.server)
      : [],
  );
  for (const change of applied.memberships) {
    if (change.after !== "invited") continue;
    const server = serverOfUser(change.user);
    if (server === context.self || sponsors.includes(server) || wanted.has(server)) continue;
    if (session.attachedLeaves.has(server)) continue;
    context.outbox.send(server, { type: "invite", room: session.room, sponsors });
  }
}

/**
 * May `server` follow the room as a leaf? When the room's ACL allows it and
 * the room is open, or it has a member who is joined or invited (an
 * invitee's server must learn the room to accept). Anyone else gets nothing: a plain room's messages are
 * readable, and even an encrypted room's metadata is the members' business.
 */
export function mayFollow(state: RoomState, server: ServerName): boolean {
  if (!isServerAllowed(state.serverAcl, server)) return false;
  // Anyone may join an open room, so any server the ACL allows may follow it
  // to let its users join (their join travels as a submission).
  if (state.joinRule === "open") return true;
  for (const [user, record] of state.members) {
    if (
      (record.membership === "joined" || record.membership === "invited") &&
      serverOfUser(user) === server
    ) {
      return true;
    }
  }
  return false;
}

/** A leaf attaches (or asks to catch up): feed it, or tell it to go elsewhere. */
export function handleAttach(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  frame: AttachFrame,
): void {
  const state = session.replica.state;
  const full =
    !session.attachedLeaves.has(peer) && session.attachedLeaves.size >= attachedLeavesPerRoomMax;
  // A sponsor routes in the tree (an attach from one is a late one from when it was a leaf).
  const sponsors = state?.sponsors ?? [];
  if (
    !session.isSponsor ||
    state === undefined ||
    full ||
    sponsors.includes(peer) ||
    !mayFollow(state, peer)
  ) {
    session.attachedLeaves.delete(peer);
    context.outbox.send(peer, { type: "detach", room: session.room });
    return;
  }
  session.attachedLeaves.set(peer, context.tick);
  for (const control of catchUpFrames(session, frame.controlIndex)) {
    context.outbox.send(peer, control);
  }
}

/** Control frames bringing a leaf at `index` up to our applied index (at least one frame, as the acknowledgement). */
function catchUpFrames(session: RoomSession, index: number): ControlFrame[] {
  const replica = session.replica;
  const records = replica.recordsAfter(index, Number.MAX_SAFE_INTEGER);
  const snapshot = records === null ? replica.snapshot() : null;
  const batches = recordBatches(records ?? []);
  const frames: ControlFrame[] = (batches.length === 0 ? [[]] : batches).map((batch, position) => ({
    type: "control",
    room: session.room,
    snapshot: position === 0 ? snapshot : null,
    records: batch,
    certificate: null,
  }));
  // The newest certificate rides the last frame: the leaf applies up to it once it has every record before it.
  const last = frames.pop();
  if (last !== undefined) frames.push({ ...last, certificate: session.certificate });
  return frames;
}

/**
 * Forgets leaves that have not repeated their attach for `attachExpiryTicks`:
 * a leaf that moved to another sponsor without its detach arriving would
 * otherwise get every message twice (once from each).
 */
export function expireAttachments(context: HostContext, session: RoomSession): void {
  for (const [leaf, attachedTick] of session.attachedLeaves) {
    if (context.tick - attachedTick > context.timing.attachExpiryTicks) {
      session.attachedLeaves.delete(leaf);
    }
  }
}

/** After a Raft round: sends the records applied in it to every attached leaf. */
export function feedLeaves(context: HostContext, session: RoomSession): void {
  const records = session.newRecords;
  if (records.length === 0) return;
  session.newRecords = [];
  // A leaf that became a sponsor routes in the tree now; feeding it as a leaf too would double its copies.
  for (const leaf of session.attachedLeaves.keys()) {
    if (session.replica.sponsors.includes(leaf)) session.attachedLeaves.delete(leaf);
  }
  for (const leaf of session.attachedLeaves.keys()) {
    for (const batch of recordBatches(records)) {
      context.outbox.send(leaf, {
        type: "control",
        room: session.room,
        snapshot: null,
        records: batch,
        certificate: session.certificate,
      });
    }
  }
}

/** Checks a control entry at our applied state and proposes it to the room's group. */
export function proposeEntry(
  context: HostContext,
  session: RoomSession,
  entry: ControlEntry,
  proposer: ServerName,
  proposalId: number,
): SubmissionOutcome {
  const record = { entry, proposer, proposalId };
  const decision = session.replica.check(record);
  if (decision.verdict === "reject") {
    return { kind: "refused", code: decision.code, reason: decision.reason };
  }
  const result = context.raft.propose(session.room, encodeControlRecord(record));
  if (result === null)
    return { kind: "refused", code: "not_sponsor_here", reason: "not a sponsor" };
  if (result.status === "dropped") {
    return { kind: "refused", code: "unavailable", reason: `not proposed: ${result.reason}` };
  }
  return { kind: "proposed" };
}

/**
 * A leaf's user submitted a message or a control entry through us. Null when
 * the answer comes later: an entry carrying an MLS commit is checked by the
 * homeserver first (`commit-check-needed`), then proposed or refused.
 */
export function handleSubmit(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  frame: SubmitFrame,
): SubmissionOutcome | null {
  const submission = frame.submission;
  const group = session.group;
  if (group === undefined || !session.routesInTree(context.self)) {
    return {
      kind: "refused",
      code: "not_sponsor_here",
      reason: "this server does not sponsor the room",
    };
  }
  if (submission.kind === "message") {
    if (serverOfUser(submission.sender) !== peer) {
      return { kind: "refused", code: "forbidden", reason: "a server submits for its own users" };
    }
    const outcome = session.lane.accept(
      group.id,
      submission.sender,
      submission.clientMessageId,
      submission.body,
    );
    return outcome.kind === "accepted"
      ? { kind: "accepted", origin: outcome.message.origin, sequence: outcome.message.sequence }
      : outcome;
  }
  let entry: ControlEntry;
  try {
    entry = decodeControlEntry(submission.entry);
  } catch {
    return { kind: "refused", code: "invalid_entry", reason: "the control entry does not decode" };
  }
  if (entry.actor.type !== "user" || serverOfUser(entry.actor.user) !== peer) {
    return { kind: "refused", code: "forbidden", reason: "a server submits for its own users" };
  }
  if (entry.mls?.commit != null) {
    // Refuse what the room rules refuse without the MLS check's cost.
    const decision = session.replica.check({ entry, proposer: peer, proposalId: frame.requestId });
    if (decision.verdict === "reject") {
      return { kind: "refused", code: decision.code, reason: decision.reason };
    }
    context.outbox.emit({
      type: "commit-check-needed",
      room: session.room,
      proposer: peer,
      requestId: frame.requestId,
      entry,
    });
    return null;
  }
  return proposeEntry(context, session, entry, peer, frame.requestId);
}

/**
 * The leader's upkeep, at each tick: move the Raft configuration towards
 * the sponsor set, and propose the sponsor changes the room's policy asked for.
 */
export function leaderDuties(context: HostContext, session: RoomSession): void {
  const group = session.group;
  // A quiet leader is checked too (cheaply): a sponsor set change may have
  // committed just before the group went quiet.
  if (group === undefined || group.role !== "leader") return;
  const desired = session.replica.incarnations();
  const { voters, learners } = group.confState;
  if (!membershipMatches(desired, voters, learners)) {
    const step = nextMembershipStep(desired, group.rawNode.status());
    if (step?.kind === "change") context.raft.proposeConfChange(session.room, step.change);
    if (step?.kind === "transfer") context.raft.transferLeadership(session.room, step.to);
  }
  proposeSponsorEffects(context, session);
}

function proposeSponsorEffects(context: HostContext, session: RoomSession): void {
  const sponsors = session.replica.sponsors;
  const effects = session.sponsorEffects;
  // Effects the sponsor set already reflects are done.
  for (let position = effects.length - 1; position >= 0; position -= 1) {
    const effect = effects[position];
    if (effect === undefined) continue;
    const done =
      effect.type === "sponsor-wanted"
        ? sponsors.includes(effect.server)
        : !sponsors.includes(effect.server);
    if (done) effects.splice(position, 1);
  }
  const next = effects[0];
  if (next === undefined) return;
  // One proposal in flight at a time: the next try waits for this one to show.
  if (context.tick - session.sponsorEffectTick < context.timing.submissionRetryTicks) return;
  session.sponsorEffectTick = context.tick;
  const action =
    next.type === "sponsor-wanted"
      ? ({ type: "add-sponsor", server: next.server } as const)
      : ({ type: "remove-sponsor", server: next.server } as const);
  const entry: ControlEntry = {
    actor: { type: "server", server: context.self },
    action,
    proposedAtMs: context.clock.nowMs(),
  };
  // Proposal id 0 is the server's own housekeeping; callers' request ids start at 1.
  const outcome = proposeEntry(context, session, entry, context.self, 0);
  if (outcome.kind === "refused" && outcome.code !== "unavailable") effects.shift();
}
