// From the wire to the application: a stream or history event becomes a
// typed timeline event after its signature is checked, and a queue item
// becomes an invite or membership event. Whatever does not check out is a
// ParleyError, never a half-filled event.

import {
  type DeviceId,
  decodeBase64url,
  type EventJson,
  type NoticeBodyJson,
  ParleyError,
  parseDeviceId,
  parseRoomId,
  parseUserId,
  type QueueItemJson,
  type SignatureProvider,
  verifyStoredRoomMessage,
} from "@parley/protocol";
import { decodeControlEntry, type Membership, memberships } from "@parley/room";
import type {
  DeviceRevokedEvent,
  InviteEvent,
  MembershipEvent,
  TimelineEvent,
} from "./client-events.ts";

const textDecoder = new TextDecoder("utf-8", { fatal: false });

export function decodeTimelineEvent(
  provider: SignatureProvider,
  event: EventJson,
  thisDevice: DeviceId,
): TimelineEvent {
  const roomId = parseRoomId(event.roomId);
  const position = {
    roomId,
    sequence: event.sequence,
    position: event.position,
    acceptedAtMs: event.acceptedAtMs,
    controlIndex: event.controlIndex,
  };
  if (event.kind === "control") {
    // The canonical entry is the truth; the server's decoded copy is a convenience.
    const entry = decodeControlEntry(decodeBase64url(event.signed));
    return { type: "room-change", ...position, actor: entry.actor, action: entry.action };
  }
  if (event.signature === null) {
    throw new ParleyError("bad_structure", `message ${event.position} has no signature`);
  }
  const message = verifyStoredRoomMessage(
    provider,
    decodeBase64url(event.signed),
    decodeBase64url(event.signature),
  );
  // The signature covers the room, device and client id: the server's copies must agree.
  if (
    message.roomId !== roomId ||
    message.deviceId !== event.deviceId ||
    message.clientId !== event.clientId
  ) {
    throw new ParleyError("bad_structure", `message ${event.position} disagrees with its envelope`);
  }
  return {
    type: "message",
    ...position,
    sender: parseUserId(event.sender),
    deviceId: message.deviceId,
    clientId: message.clientId,
    contentType: message.contentType,
    body: message.body,
    text: message.contentType.startsWith("text/") ? textDecoder.decode(message.body) : undefined,
    sentAtMs: message.sentAtMs,
    fromThisDevice: message.deviceId === thisDevice,
  };
}

function stringField(body: NoticeBodyJson, name: keyof NoticeBodyJson): string {
  const value = body[name];
  if (typeof value !== "string") {
    throw new ParleyError("bad_structure", `a queue item has no text field ${name}`);
  }
  return value;
}

function isMembership(value: string): value is Membership | "none" {
  return value === "none" || (memberships as readonly string[]).includes(value);
}

/** A queue item as an event, or undefined for a kind this SDK does not know (newer servers). */
export function decodeQueueItem(
  item: QueueItemJson,
): InviteEvent | MembershipEvent | DeviceRevokedEvent | undefined {
  const { body } = item;
  const logIndex = typeof body.logIndex === "number" ? body.logIndex : 0;
  if (item.kind === "invite") {
    return {
      type: "invite",
      roomId: parseRoomId(stringField(body, "roomId")),
      // null when the server knows the invitation only from a snapshot (§10.8).
      by: body.by === null ? undefined : parseUserId(stringField(body, "by")),
      roomName: typeof body.name === "string" ? body.name : "",
      logIndex,
    };
  }
  if (item.kind === "membership") {
    const membership = stringField(body, "membership");
    if (!isMembership(membership)) {
      throw new ParleyError("bad_structure", `unknown membership ${membership}`);
    }
    return {
      type: "membership",
      roomId: parseRoomId(stringField(body, "roomId")),
      membership,
      by: parseUserId(stringField(body, "by")),
      roomName: typeof body.name === "string" ? body.name : "",
      reason: typeof body.reason === "string" ? body.reason : undefined,
      logIndex,
    };
  }
  if (item.kind === "notice" && body.type === "device-revoked") {
    return { type: "device-revoked", deviceId: parseDeviceId(stringField(body, "deviceId")) };
  }
  return undefined;
}
