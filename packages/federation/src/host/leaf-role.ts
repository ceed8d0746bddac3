import {
  type CertificateCheck,
  type ControlCertificate,
  checkCertificate,
  equalBytes,
  ParleyError,
  type ServerName,
  serverOfUser,
} from "@parley/protocol";
import { decodeRoomSnapshot, RoomStateMachine } from "@parley/room";
import { decodeControlRecord, nextChainHash } from "../control-lane/control-record.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { ControlFrame, ControlRecordAt, SubmitResultFrame } from "../frames/frame.ts";
import { controlRecordsRetainedPerRoomMax, leafWakeTicks } from "../limits.ts";
import { chooseAttachment } from "../routing/leaf-attachment.ts";
import { trackSponsorSet } from "./certification.ts";
import type { HostContext } from "./host-context.ts";
import type { RoomSession } from "./room-session.ts";
import { applyRecord } from "./sponsor-role.ts";

/**
 * A leaf's upkeep, at each tick: attach to the right sponsor (re-attaching
 * when it fails or the sponsor set changes), repeat an unanswered attach, and
 * re-send unanswered message submissions. A leaf none of whose users takes
 * part in the room any more (§12.7: joined, invited or knocking) detaches and
 * stays detached — its sponsor stops feeding it — until it is told of an
 * invite or a local user acts in the room again.
 */
export function leafDuties(context: HostContext, session: RoomSession): void {
  if (session.isSponsor || session.routesInTree(context.self)) return;
  const candidates =
    session.replica.state === undefined ? session.contacts : session.replica.sponsors;
  const attachment = session.attachment;
  for (const [sponsor, until] of attachment.refusedUntil) {
    if (until <= context.tick) attachment.refusedUntil.delete(sponsor);
  }
  const choice = isDormant(context, session)
    ? null
    : chooseAttachment(
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
  if (attachment.sponsor === null) {
    resendSubmissions(context, session, null);
    return;
  }
  const refreshDue = context.tick - attachment.attachSentTick >= context.timing.attachRefreshTicks;
  // Records held without a certificate ask again: the certificate that covers them may have been lost.
  pruneHeldFeed(session);
  const held = session.uncertified.snapshot !== null || session.uncertified.records.length > 0;
  if (!attachment.acknowledged || refreshDue || held) requestFeed(context, session);
  resendSubmissions(context, session, attachment.sponsor);
}

/** Keeps the leaf attached for a while although its state shows no local user (it is behind). */
export function wakeLeaf(context: HostContext, session: RoomSession): void {
  session.awakeUntilTick = context.tick + leafWakeTicks;
}

/** No local user takes part in the room, nothing local waits on it, and it was not woken lately. */
function isDormant(context: HostContext, session: RoomSession): boolean {
  const state = session.replica.state;
  if (state === undefined || context.tick < session.awakeUntilTick) return false;
  if (session.pendingSubmissions.size > 0 || session.pendingProposals.size > 0) return false;
  for (const [user, record] of state.members) {
    if (record.membership === "left" || record.membership === "banned") continue;
    if (serverOfUser(user) === context.self) return false;
  }
  return true;
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

/** Repeats unanswered submissions that are due (to `sponsor`, if the leaf has one) and times out old ones. */
function resendSubmissions(
  context: HostContext,
  session: RoomSession,
  sponsor: ServerName | null,
): void {
  const { submissionRetryTicks, submissionTimeoutTicks } = context.timing;
  for (const [requestId, pending] of session.pendingSubmissions) {
    if (context.tick - pending.firstTick >= submissionTimeoutTicks) {
      session.pendingSubmissions.delete(requestId);
      context.outbox.emit({
        type: "submission-result",
        room: session.room,
        requestId,
        outcome: { kind: "timed-out" },
      });
      continue;
    }
    if (sponsor === null || (context.tick < pending.nextTick && pending.sentTo === sponsor)) {
      continue;
    }
    pending.nextTick = context.tick + submissionRetryTicks * 2 ** Math.min(pending.attempts, 3);
    pending.attempts += 1;
    pending.sentTo = sponsor;
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
 * Committed control records from a sponsor. A leaf believes nothing a
 * certificate does not cover (§12.6.1): records (and a snapshot) are held
 * until a certificate arrives whose index they reach, then checked — they
 * chain onto our log up to the certificate's chain hash, and a majority of
 * the sponsor set in the state at that index signed it — and only then
 * applied. A gap (a lost frame) asks for a catch-up; a record that does not
 * chain or a certificate that does not verify is reported and dropped.
 */
export function handleControlFrame(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  frame: ControlFrame,
): void {
  if (session.isSponsor) return;
  if (peer === session.attachment.sponsor) session.attachment.acknowledged = true;
  pruneHeldFeed(session);
  const snapshot = frame.snapshot;
  if (snapshot !== null && snapshot.index > feedEnd(session)) {
    session.uncertified = { snapshot, records: [] };
  }
  for (const at of frame.records) {
    const end = feedEnd(session);
    if (at.index <= end) continue;
    if (at.index !== end + 1 || session.uncertified.records.length >= uncertifiedRecordsMax) {
      session.attachment.attachSentTick = Number.NEGATIVE_INFINITY;
      requestFeed(context, session);
      break;
    }
    session.uncertified.records.push(at);
  }
  if (context.keys === null) {
    // No keys wired: the feed is applied on the sponsor's word, as before certificates.
    const check = checkFeed(context, session, feedEnd(session));
    if (check.kind === "refused") refuseFeed(context, session, peer, check.error);
    else applyHeld(context, session, feedEnd(session), null);
    return;
  }
  const certificate = frame.certificate;
  // A certificate below what we hold covers nothing new (a snapshot beyond it waits for a newer
  // one); one beyond the records held waits for the frames that bring them.
  if (certificate === null || certificate.index < feedStart(session)) return;
  if (certificate.index === (session.certificate?.index ?? 0)) return;
  if (certificate.index > feedEnd(session)) return;
  const check = checkFeed(context, session, certificate.index, certificate);
  if (check.kind === "keys-missing") {
    // Neither believed nor refused: ask for the signers' keys and for the feed again.
    context.outbox.emit({ type: "keys-wanted", servers: check.servers });
    session.attachment.acknowledged = false;
    return;
  }
  if (check.kind === "refused") {
    refuseFeed(context, session, peer, check.error);
    return;
  }
  applyHeld(context, session, certificate.index, certificate);
}

/** A feed that does not chain or is not certified: dropped whole, and its sponsor reported. */
function refuseFeed(
  context: HostContext,
  session: RoomSession,
  peer: ServerName,
  error: ParleyError,
): void {
  session.uncertified = { snapshot: null, records: [] };
  context.outbox.emit({ type: "peer-error", peer, error });
}

/**
 * Drops what the held feed has that the replica already passed. The replica
 * can move on without the feed: a leaf that was a sponsor for a while applied
 * the log through Raft, and records it held from before would otherwise sit
 * below the applied index for good, so every new record looked like a gap
 * and the leaf asked for the feed again forever.
 */
function pruneHeldFeed(session: RoomSession): void {
  const applied = session.replica.appliedIndex;
  const { snapshot, records } = session.uncertified;
  if (snapshot !== null && snapshot.index > applied) return;
  if (snapshot === null && (records[0]?.index ?? applied + 1) > applied) return;
  session.uncertified = { snapshot: null, records: records.filter((at) => at.index > applied) };
}

/** Records a leaf holds uncertified at most (a sponsor's certificate lags its log by a few rounds). */
const uncertifiedRecordsMax = controlRecordsRetainedPerRoomMax;

/** The index the held feed starts from: its snapshot's, or our applied index. */
function feedStart(session: RoomSession): number {
  const { snapshot } = session.uncertified;
  const applied = session.replica.appliedIndex;
  return snapshot !== null && snapshot.index > applied ? snapshot.index : applied;
}

/** The index the held feed reaches: its last record, or where it starts. */
function feedEnd(session: RoomSession): number {
  return session.uncertified.records.at(-1)?.index ?? feedStart(session);
}

/** Checks the held feed up to the certificate's index without applying it: chain, then signatures. */
function checkFeed(
  context: HostContext,
  session: RoomSession,
  through: number,
  certificate?: ControlCertificate,
): CertificateCheck {
  const refuse = (message: string): CertificateCheck => ({
    kind: "refused",
    error: new ParleyError("certificate_invalid", message),
  });
  const { snapshot, records } = session.uncertified;
  let machine: RoomStateMachine;
  let chainHash: Uint8Array;
  let index: number;
  try {
    if (snapshot !== null && snapshot.index > session.replica.appliedIndex) {
      machine = new RoomStateMachine(decodeRoomSnapshot(snapshot.state));
      chainHash = snapshot.chainHash;
      index = snapshot.index;
    } else {
      machine = new RoomStateMachine(session.replica.state);
      chainHash = session.replica.chainHash;
      index = session.replica.appliedIndex;
    }
    for (const at of records) {
      if (at.index > through) break;
      chainHash = nextChainHash(chainHash, at.record);
      if (!equalBytes(chainHash, at.chainHash))
        return refuse(`control chain differs at ${at.index}`);
      machine.apply(decodeControlRecord(at.record).entry, at.index);
      index = at.index;
    }
  } catch (error) {
    return refuse(`the held control feed does not decode: ${String(error)}`);
  }
  if (certificate === undefined || context.keys === null) return { kind: "certified" };
  const sponsors = machine.state?.sponsors ?? [];
  return checkCertificate(session.room, certificate, { index, chainHash }, sponsors, context.keys);
}

/** Applies the held snapshot and records through `through` (a verified certificate's index), and keeps the certificate. */
function applyHeld(
  context: HostContext,
  session: RoomSession,
  through: number,
  certificate: ControlCertificate | null,
): void {
  const { snapshot, records } = session.uncertified;
  if (snapshot !== null && snapshot.index > session.replica.appliedIndex) {
    session.replica = RoomReplica.fromSnapshot(session.room, snapshot);
    trackSponsorSet(session);
    context.storage.saveLeafSnapshot(session.room, snapshot);
    context.outbox.needSync();
    context.outbox.emit({ type: "state-restored", room: session.room, index: snapshot.index });
    session.lane.controlAdvanced();
  }
  const rest: ControlRecordAt[] = [];
  for (const at of records) {
    if (at.index > through) rest.push(at);
    else if (at.index === session.replica.appliedIndex + 1) {
      applyRecord(context, session, at.record);
      persistLeafRecord(context, session, at);
    }
  }
  session.uncertified = { snapshot: null, records: rest };
  if (certificate !== null) {
    session.certificate = certificate;
    context.storage.saveCertificate(session.room, certificate);
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
