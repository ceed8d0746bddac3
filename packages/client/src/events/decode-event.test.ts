import {
  type EventJson,
  encodeBase64url,
  nobleSignatureProvider,
  ParleyError,
  parseRoomId,
  parseUserId,
  signRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import { encodeControlEntry } from "@parley/room";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateDeviceKeys } from "../device/device-keys.ts";
import { decodeQueueItem, decodeTimelineEvent } from "./decode-event.ts";

const provider = nobleSignatureProvider;
const device = generateDeviceKeys(provider);
const other = generateDeviceKeys(provider);
const roomId = parseRoomId("!AAAAAAAAAAAAAAAAAAAAAA");

/** The event the server would deliver for an envelope this device signed. */
function storedEvent(fields: {
  body: Uint8Array;
  contentType: string;
  clientId: string;
}): EventJson {
  const envelope = signRoomMessage(provider, device.keyPair, { roomId, sentAtMs: 1234, ...fields });
  const verified = verifyRoomMessage(provider, envelope);
  return {
    position: 10,
    roomId,
    sequence: 4,
    kind: "message",
    sender: "alice@chat.test",
    deviceId: device.deviceId,
    clientId: fields.clientId,
    contentType: fields.contentType,
    acceptedAtMs: 2000,
    controlIndex: 3,
    origin: "chat.test",
    originSequence: 9,
    signed: encodeBase64url(verified.signedBytes),
    signature: encodeBase64url(verified.signature),
  };
}

const clientIds = fc.stringMatching(/^[A-Za-z0-9._~-]{1,64}$/);
const bodies = fc.uint8Array({ maxLength: 512 });
const contentTypes = fc.constantFrom("text/plain", "application/octet-stream", "text/markdown");

describe("decoding stream events", () => {
  it("gives back exactly what the device signed, for any body, content type and client id", () => {
    fc.assert(
      fc.property(bodies, contentTypes, clientIds, (body, contentType, clientId) => {
        const event = decodeTimelineEvent(
          provider,
          storedEvent({ body, contentType, clientId }),
          device.deviceId,
        );
        expect(event).toMatchObject({
          type: "message",
          roomId,
          sequence: 4,
          position: 10,
          clientId,
          contentType,
          deviceId: device.deviceId,
          sentAtMs: 1234,
          fromThisDevice: true,
        });
        if (event.type !== "message") return;
        expect(event.body).toEqual(body);
        expect(event.text === undefined).toBe(!contentType.startsWith("text/"));
        expect(
          decodeTimelineEvent(
            provider,
            storedEvent({ body, contentType, clientId }),
            other.deviceId,
          ),
        ).toMatchObject({
          fromThisDevice: false,
        });
      }),
      { numRuns: 50 },
    );
  });

  it("refuses a message whose server-side fields disagree with what was signed", () => {
    const event = storedEvent({
      body: new Uint8Array([1]),
      contentType: "text/plain",
      clientId: "a",
    });
    const cases: EventJson[] = [
      { ...event, clientId: "b" },
      { ...event, deviceId: other.deviceId },
      { ...event, roomId: "!BBBBBBBBBBBBBBBBBBBBBB" },
      { ...event, signature: encodeBase64url(new Uint8Array(64)) },
      { ...event, signature: null },
    ];
    for (const forged of cases) {
      expect(() => decodeTimelineEvent(provider, forged, device.deviceId)).toThrow(ParleyError);
    }
  });

  it("reads a control event from its signed entry, not from the decoded copy beside it", () => {
    const actor = { type: "user", user: parseUserId("alice@chat.test") } as const;
    const entry = { actor, action: { type: "set-topic", topic: "real" }, proposedAtMs: 5 } as const;
    const event: EventJson = {
      position: 11,
      roomId,
      sequence: 5,
      kind: "control",
      sender: "alice@chat.test",
      deviceId: null,
      clientId: null,
      contentType: "application/vnd.parley.control+cbor",
      acceptedAtMs: 2000,
      controlIndex: 7,
      origin: null,
      originSequence: null,
      signed: encodeBase64url(encodeControlEntry(entry)),
      signature: null,
      control: { actor, action: { type: "set-topic", topic: "forged" } as { type: string } },
    };
    expect(decodeTimelineEvent(provider, event, device.deviceId)).toEqual({
      type: "room-change",
      roomId,
      sequence: 5,
      position: 11,
      acceptedAtMs: 2000,
      controlIndex: 7,
      actor,
      action: { type: "set-topic", topic: "real" },
    });
    const garbled = { ...event, signed: encodeBase64url(new Uint8Array([0xa1, 0x01])) };
    expect(() => decodeTimelineEvent(provider, garbled, device.deviceId)).toThrow(ParleyError);
  });

  it("reads invites and membership notices, and skips kinds it does not know", () => {
    const body = {
      type: "invite",
      roomId,
      membership: "invited",
      by: "bob@chat.test",
      logIndex: 2,
      name: "x",
    };
    expect(decodeQueueItem({ position: 1, id: "i", kind: "invite", body, createdAtMs: 0 })).toEqual(
      {
        type: "invite",
        roomId,
        by: "bob@chat.test",
        roomName: "x",
        logIndex: 2,
      },
    );
    // An invitation learnt from another server's snapshot does not name the inviter.
    const fromSnapshot = { ...body, by: null };
    expect(
      decodeQueueItem({ position: 3, id: "s", kind: "invite", body: fromSnapshot, createdAtMs: 0 }),
    ).toEqual({ type: "invite", roomId, by: undefined, roomName: "x", logIndex: 2 });
    const kicked = { ...body, type: "membership", membership: "left", reason: "spam" };
    expect(
      decodeQueueItem({ position: 2, id: "k", kind: "membership", body: kicked, createdAtMs: 0 }),
    ).toMatchObject({
      type: "membership",
      membership: "left",
      reason: "spam",
    });
    expect(
      decodeQueueItem({ position: 3, id: "n", kind: "notice", body: {}, createdAtMs: 0 }),
    ).toBeUndefined();
    const revokedDevice = other.deviceId;
    expect(
      decodeQueueItem({
        position: 5,
        id: `device-revoked:${revokedDevice}`,
        kind: "notice",
        body: { type: "device-revoked", deviceId: revokedDevice },
        createdAtMs: 0,
      }),
    ).toEqual({ type: "device-revoked", deviceId: revokedDevice });
    expect(() =>
      decodeQueueItem({
        position: 6,
        id: "d",
        kind: "notice",
        body: { type: "device-revoked", deviceId: "not a device" },
        createdAtMs: 0,
      }),
    ).toThrow(ParleyError);
    expect(() =>
      decodeQueueItem({
        position: 4,
        id: "b",
        kind: "invite",
        body: { roomId: 5 },
        createdAtMs: 0,
      }),
    ).toThrow(ParleyError);
  });
});
