// The JSON form of a stream event, the same in history pages and on the live
// stream. A message carries the exact bytes its device signed and the
// signature, both base64url, so every reader can verify it
// (verifyStoredRoomMessage); a control event carries the control entry's
// canonical bytes and, for convenience, the decoded entry. An encrypted
// room's entry is shown without the MLS objects only joiners need (the
// ratchet tree, which grows with the group, the GroupInfo and the Welcome):
// every member device gets every control event, and with the tree each
// commit would cost every device the whole group's size.

import type { EventJson } from "@parley/protocol";
import {
  type ControlEntry,
  decodeControlEntry,
  encodeControlEntry,
  type MlsPart,
} from "@parley/room";
import type { StoredEvent } from "../storage/records.ts";
import { controlEventContentType } from "./control-events.ts";

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

export function eventJson(event: StoredEvent): EventJson {
  const isControl = event.contentType === controlEventContentType;
  const common = {
    position: event.streamPosition,
    roomId: event.roomId,
    sequence: event.roomSequence,
    kind: isControl ? "control" : "message",
    sender: event.senderUserId,
    deviceId: isControl ? null : event.senderDeviceId,
    clientId: isControl ? null : event.clientEventId,
    contentType: event.contentType,
    acceptedAtMs: event.acceptedAtMs,
    controlIndex: event.controlIndex,
    origin: event.stamp?.origin ?? null,
    originSequence: event.stamp?.sequence ?? null,
    signature: event.signature === null ? null : base64url(event.signature),
  } as const;
  if (!isControl) return { ...common, signed: base64url(event.body) };
  const entry = decodeControlEntry(event.body);
  const control = { actor: entry.actor, action: entry.action };
  const mls = entry.mls;
  if (mls === undefined) return { ...common, signed: base64url(event.body), control };
  return {
    ...common,
    signed: base64url(encodeControlEntry(withoutJoinerObjects(entry, mls))),
    control,
    mls: {
      epoch: mls.epoch,
      commit: mls.commit === null ? null : base64url(mls.commit),
      added: mls.added.map((device) => ({ userId: device.user, deviceId: device.device })),
    },
  };
}

/** The JSON text of one event, made once per event and shared by every receiver. */
export function eventJsonText(event: StoredEvent): string {
  return JSON.stringify(eventJson(event));
}

/** The entry with the MLS objects only joiners use emptied: the tree, the GroupInfo, the Welcome. */
function withoutJoinerObjects(entry: ControlEntry, mls: MlsPart): ControlEntry {
  const empty = new Uint8Array(0);
  return { ...entry, mls: { ...mls, groupInfo: empty, ratchetTree: empty, welcome: null } };
}
