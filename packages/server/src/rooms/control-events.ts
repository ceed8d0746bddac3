// Applied control entries also enter the room's event stream, once each, so a
// member's devices see state changes in order with the messages around them
// (and history shows them). They are written as events from a pseudo-device
// with the client id `control:<index>`: no client id of a real message can
// contain ":", so the two never collide, and writing the same entry again
// after a crash is a no-op.

import type { RoomId, UserId } from "@parley/protocol";
import type { NewEvent } from "../storage/records.ts";

/** The content type of control events; rooms may not be created with it. */
export const controlEventContentType = "application/vnd.parley.control+cbor";

/** The sender device of control events: the room's control lane, not a device. */
export const controlEventDeviceId = "room-control";

export function controlEventClientId(index: number): string {
  return `control:${index}`;
}

export function controlEvent(input: {
  roomId: RoomId;
  actor: UserId;
  index: number;
  entryBytes: Uint8Array;
  acceptedAtMs: number;
}): NewEvent {
  return {
    roomId: input.roomId,
    senderUserId: input.actor,
    senderDeviceId: controlEventDeviceId,
    clientEventId: controlEventClientId(input.index),
    contentType: controlEventContentType,
    body: input.entryBytes,
    signature: null,
    controlIndex: input.index,
    acceptedAtMs: input.acceptedAtMs,
  };
}
