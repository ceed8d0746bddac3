// A sponsor's check of a leaf's submitted message in an encrypted room
// (docs/protocol.md §12.7, §10.13): the body must be an application
// PrivateMessage of the room's group, of an epoch the room has reached and
// within the past-epoch window; a plain room's bodies are not its concern.

import * as mls from "@parley/mls";
import { makeUserId, type RoomId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { type RoomState, RoomStateMachine } from "@parley/room";
import { describe, expect, it } from "vitest";
import { framingRefusal, mlsMessageContentType } from "./encrypted-rooms.ts";

const server = "a.test" as ServerName;
const alice = makeUserId("alice", server);

function roomState(roomId: RoomId, kind: "plain" | "encrypted", epoch = 0): RoomState {
  const machine = new RoomStateMachine();
  machine.apply(
    {
      actor: { type: "user", user: alice },
      action: {
        type: "create",
        roomId,
        kind,
        contentType: "text/plain",
        name: "framing",
        topic: "",
        joinRule: "invite",
        sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
      },
      proposedAtMs: 0,
      ...(kind === "plain"
        ? {}
        : {
            mls: {
              epoch: 0,
              commit: null,
              groupInfo: new Uint8Array([1]),
              ratchetTree: new Uint8Array([2]),
              welcome: null,
              added: [],
            },
          }),
    },
    1,
  );
  const state = machine.state;
  if (state === undefined) throw new Error("created");
  return state.mls === undefined ? state : { ...state, mls: { ...state.mls, epoch } };
}

async function privateMessage(roomId: RoomId): Promise<Uint8Array> {
  const crypto = await mls.createMlsCrypto({ signatureProvider: nodeSignatureProvider });
  const identity = { user: alice, keyPair: nodeSignatureProvider.generateKeyPair() };
  const created = await mls.createRoomGroup(crypto, identity, { roomId, nowMs: Date.now() });
  const encrypted = await mls.encryptMessage(created.member, new TextEncoder().encode("hello"));
  if (encrypted.kind !== "encrypted") throw new Error("encrypted");
  return encrypted.message;
}

describe("the framing of a submitted message in an encrypted room", () => {
  const roomId = roomIdFromBytes(new Uint8Array(16).fill(3));
  const otherRoom = roomIdFromBytes(new Uint8Array(16).fill(4));

  it("passes an application PrivateMessage of the room's group in the current epoch", async () => {
    const body = await privateMessage(roomId);
    expect(framingRefusal(roomState(roomId, "encrypted"), mlsMessageContentType, body)).toBeNull();
  });

  it("refuses what is not MLS, another room's group, and an epoch out of the window", async () => {
    const body = await privateMessage(roomId);
    const state = roomState(roomId, "encrypted");
    expect(framingRefusal(state, "text/plain", body)?.code).toBe("mls_malformed");
    expect(framingRefusal(state, mlsMessageContentType, new Uint8Array([1, 2, 3]))?.code).toMatch(
      /^mls_/,
    );
    const elsewhere = await privateMessage(otherRoom);
    expect(framingRefusal(state, mlsMessageContentType, elsewhere)?.code).toBe("mls_wrong_group");
    const later = roomState(roomId, "encrypted", mls.mlsLimits.pastEpochWindow + 1);
    expect(framingRefusal(later, mlsMessageContentType, body)?.code).toBe("mls_epoch_too_old");
  });

  it("leaves plain rooms and rooms unknown here alone", async () => {
    expect(
      framingRefusal(roomState(roomId, "plain"), "text/plain", new Uint8Array([1])),
    ).toBeNull();
    expect(framingRefusal(undefined, "text/plain", new Uint8Array([1]))).toBeNull();
  });
});
