import { equalBytes, ParleyError, type ServerName } from "@parley/protocol";
import { nextChainHash } from "../control-lane/control-record.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { ControlFrame, SubmitResultFrame } from "../frames/frame.ts";
import { controlRecordsRetainedPerRoomMax } from "../limits.ts";
import { chooseAttachment } from "../routing/leaf-attachment.ts";
import type { HostContext } from "./host-context.ts";
import type { RoomSession } from "./room-session.ts";
import { applyRecord } from "./sponsor-role.ts";

/**
 * A leaf's upkeep, at each tick: attach to the right sponsor (re-attaching
 * when it fails or the sponsor set changes), repeat an unanswered attach, and
 * re-send unanswered message submissions.
 */
export function leafDuties(context: HostContext, session: RoomSession): void {
  if (session.isSponsor || session.routesInTree(context.self)) return;
  const candidates =
    session.replica.state === undefined ? session.contacts : session.replica.sponsors;
  const attachment = session.attachment;
  for (const [sponsor, until] of attachment.refusedUntil) {
    if (until <= context.tick) attachment.refusedUntil.delete(sponsor);
  }
  const choice = chooseAttachment(
    session.room,
    context.self,
    candidates,
    (sponsor) => context.liveLinks.has(sponsor) && !attachment.refusedUntil.has(sponsor),
  );
  if (choice !== attachment.sponsor) {
    if (attachment.sponsor !== null) {
      attachment.owedDetaches.add(attachment.sponsor);
      session.lane.forgetPeer(attachment.sponsor);
    }
    attachment.sponsor = choice;
    attachment.acknowledged = false;
    attachment.attachSentTick = Number.NEGATIVE_INFINITY;
  }
  for (const sponsor of attachment.owedDetaches) {
    if (sponsor === attachment.sponsor) attachment.owedDetaches.delete(sponsor);
    else if (context.liveLinks.has(sponsor)) {
      context.outbox.send(sponsor, { type: "detach", room: session.room });
      attachment.owedDetaches.delete(sponsor);
    }
  }
  if (attachment.sponsor === null) return;
  const refreshDue = context.tick - attachment.attachSentTick >= context.timing.attachRefreshTicks;
  if (!attachment.acknowledged || refreshDue) requestFeed(context, session);
  resendSubmissions(context, session, attachment.sponsor);
}

/** Sends an attach (also the way to ask for missed control records), at most once per retry period. */
export function requestFeed(context: HostContext, session: RoomSession): void {
  const { attachment } = session;
  if (attachment.sponsor === null) return;
  if (context.tick - attachment.attachSentTick < context.timing.attachRetryTicks) return;
  attachment.attachSentTick = context.tick;
  context.outbox.send(attachment.sponsor, {
    type: "attach",
    room: session.room,
    controlIndex: session.replica.appliedIndex,
  });
}

function resendSubmissions(context: HostContext, session: RoomSession, sponsor: ServerName): void {
  for (const [requestId, pending] of session.pendingSubmissions) {
    if (context.tick < pending.nextTick) continue;
    if (pending.attempts >= context.timing.submissionAttemptsMax) {
      session.pendingSubmissions.delete(requestId);
      context.outbox.emit({
        type: "submission-result",
        room: session.room,
        requestId,
        outcome: { kind: "timed-out" },
      });
      continue;
    }
    pending.attempts += 1;
    pending.nextTick = context.tick + context.timing.submissionRetryTicks;
    context.outbox.send(sponsor, {
      type: "submit",
      room: session.room,
      requestId,
      submission: {
        kind: "message",
        sender: pending.sender,
        clientMessageId: pending.clientMessageId,
        body: pending.body,
      },
    });
  }
}

/**
 * Committed control records from a sponsor. They apply in order; a gap (a
 * lost frame) asks for a catch-up; a chain hash that differs from ours is a
 * sponsor disagreeing with the log, reported and not applied.
 */
export function handleControlFrame(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  frame: ControlFrame,
): void {
  if (session.isSponsor) return;
  if (peer === session.attachment.sponsor) session.attachment.acknowledged = true;
  const snapshot = frame.snapshot;
  if (snapshot !== null && snapshot.index > session.replica.appliedIndex) {
    session.replica = RoomReplica.fromSnapshot(session.room, snapshot);
    context.storage.saveLeafSnapshot(session.room, snapshot);
    context.outbox.needSync();
    context.outbox.emit({ type: "state-restored", room: session.room, index: snapshot.index });
    session.lane.controlAdvanced();
  }
  for (const at of frame.records) {
    const applied = session.replica.appliedIndex;
    if (at.index <= applied) continue;
    if (at.index !== applied + 1) {
      session.attachment.attachSentTick = Number.NEGATIVE_INFINITY;
      requestFeed(context, session);
      break;
    }
    if (!equalBytes(nextChainHash(session.replica.chainHash, at.record), at.chainHash)) {
      // The sponsor's log differs from ours: never apply a record that does not chain.
      context.outbox.emit({
        type: "peer-error",
        peer,
        error: new ParleyError("bad_structure", `control chain differs at ${at.index}`),
      });
      break;
    }
    applyRecord(context, session, at.record);
    persistLeafRecord(context, session, at);
  }
  session.newRecords = [];
}

function persistLeafRecord(
  context: HostContext,
  session: RoomSession,
  at: ControlFrame["records"][number],
): void {
  const log = context.storage.leafLog(session.room);
  if (log.records.length + 1 >= controlRecordsRetainedPerRoomMax) {
    context.storage.saveLeafSnapshot(session.room, session.replica.snapshot());
  } else {
    context.storage.appendLeafRecord(session.room, at);
  }
  context.outbox.needSync();
}

/** A sponsor answered a submission of ours. */
export function handleSubmitResult(
  context: HostContext,
  session: RoomSession,
  frame: SubmitResultFrame,
): void {
  const { requestId, outcome } = frame;
  if (session.pendingSubmissions.delete(requestId)) {
    context.outbox.emit({ type: "submission-result", room: session.room, requestId, outcome });
    return;
  }
  if (!session.pendingProposals.has(requestId)) return;
  if (outcome.kind === "refused") session.pendingProposals.delete(requestId);
  context.outbox.emit({ type: "submission-result", room: session.room, requestId, outcome });
}
