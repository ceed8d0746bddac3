import type { RoomId, UserId } from "@parley/protocol";
import { type ControlEntry, encodeControlEntry } from "@parley/room";
import { proposalsInFlightPerRoomMax, submissionsInFlightPerRoomMax } from "../limits.ts";
import type { LocalSubmissionOutcome } from "./effects.ts";
import type { HostContext } from "./host-context.ts";
import { leafDuties } from "./leaf-role.ts";
import type { RoomSession } from "./room-session.ts";
import { proposeEntry } from "./sponsor-role.ts";

/**
 * A local user's control action. On a sponsor it is checked and proposed to
 * the room's group; on a leaf it is submitted to the attached sponsor. Either
 * way the proposal is remembered until its record commits (the proposer and
 * request id are in the record) or its time runs out.
 */
export function proposeLocal(
  context: HostContext,
  session: RoomSession | undefined,
  room: RoomId,
  entry: ControlEntry,
  requestId: number,
): void {
  const outcome = proposeFrom(context, session, room, entry, requestId);
  if (outcome !== null) {
    context.outbox.emit({ type: "submission-result", room, requestId, outcome });
  }
}

function proposeFrom(
  context: HostContext,
  session: RoomSession | undefined,
  room: RoomId,
  entry: ControlEntry,
  requestId: number,
): LocalSubmissionOutcome | null {
  if (session === undefined) {
    return { kind: "refused", code: "room_unknown", reason: "this server is not in the room" };
  }
  if (session.pendingProposals.size >= proposalsInFlightPerRoomMax) {
    return { kind: "refused", code: "unavailable", reason: "too many proposals in flight" };
  }
  const deadline = context.tick + context.timing.proposalTimeoutTicks;
  if (session.isSponsor) {
    const outcome = proposeEntry(context, session, entry, context.self, requestId);
    if (outcome.kind === "proposed") session.pendingProposals.set(requestId, deadline);
    return outcome;
  }
  const sponsor = session.attachment.sponsor;
  if (sponsor === null) {
    return { kind: "refused", code: "unavailable", reason: "no sponsor is reachable" };
  }
  session.pendingProposals.set(requestId, deadline);
  context.outbox.send(sponsor, {
    type: "submit",
    room,
    requestId,
    submission: { kind: "control", entry: encodeControlEntry(entry) },
  });
  return null;
}

export interface LocalMessage {
  readonly sender: UserId;
  readonly clientMessageId: string;
  readonly body: Uint8Array;
}

/**
 * A local user's message: a sponsor accepts or refuses it at once; a leaf
 * submits it to its sponsor and repeats it until answered (the sponsor
 * recognises a repeat by the sender and client message id).
 */
export function sendLocal(
  context: HostContext,
  session: RoomSession | undefined,
  room: RoomId,
  message: LocalMessage,
  requestId: number,
): void {
  if (session === undefined) {
    const outcome = {
      kind: "refused",
      code: "room_unknown",
      reason: "this server is not in the room",
    } as const;
    context.outbox.emit({ type: "submission-result", room, requestId, outcome });
    return;
  }
  const group = session.group;
  if (group !== undefined && session.routesInTree(context.self)) {
    const accepted = session.lane.accept(
      group.id,
      message.sender,
      message.clientMessageId,
      message.body,
    );
    const outcome: LocalSubmissionOutcome =
      accepted.kind === "accepted"
        ? { kind: "accepted", origin: accepted.message.origin, sequence: accepted.message.sequence }
        : accepted;
    context.outbox.emit({ type: "submission-result", room, requestId, outcome });
    return;
  }
  if (session.pendingSubmissions.size >= submissionsInFlightPerRoomMax) {
    const outcome = {
      kind: "refused",
      code: "unavailable",
      reason: "too many messages waiting for the sponsor",
    } as const;
    context.outbox.emit({ type: "submission-result", room, requestId, outcome });
    return;
  }
  session.pendingSubmissions.set(requestId, {
    ...message,
    firstTick: context.tick,
    attempts: 0,
    nextTick: context.tick,
    sentTo: null,
  });
  leafDuties(context, session);
}
