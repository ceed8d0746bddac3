import {
  keyPairFromSeed,
  roomIdFromBytes,
  signRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { describe, expect, test } from "vitest";
import { VerifiedMessages } from "./verified-messages.ts";

const device = keyPairFromSeed(nodeSignatureProvider, new Uint8Array(32).fill(9));

function envelope(clientId: string, bodyBytes = 8): Uint8Array {
  return signRoomMessage(nodeSignatureProvider, device, {
    roomId: roomIdFromBytes(new Uint8Array(16).fill(1)),
    contentType: "application/octet-stream",
    body: new Uint8Array(bodyBytes).fill(2),
    clientId,
    sentAtMs: 1,
  });
}

describe("VerifiedMessages", () => {
  test("finds a message by its bytes, whatever object carries them, once", () => {
    const verified = new VerifiedMessages();
    const bytes = envelope("a");
    const message = verifyRoomMessage(nodeSignatureProvider, bytes);
    verified.note(bytes, message);
    expect(verified.take(envelope("b"))).toBeUndefined();
    expect(verified.take(Uint8Array.from(bytes))).toBe(message);
    expect(verified.take(bytes)).toBeUndefined();
    expect(verified.size).toBe(0);
  });

  test("stays within its byte bound by forgetting the oldest, and keeps nothing larger than it", () => {
    const first = envelope("first", 400);
    const second = envelope("second", 400);
    const third = envelope("third", 400);
    const entryBytes =
      first.length + verifyRoomMessage(nodeSignatureProvider, first).signedBytes.length;
    const verified = new VerifiedMessages(2 * entryBytes + 10);
    for (const bytes of [first, second, third]) {
      verified.note(bytes, verifyRoomMessage(nodeSignatureProvider, bytes));
    }
    expect(verified.size).toBe(2);
    expect(verified.take(first)).toBeUndefined();
    expect(verified.take(third)?.clientId).toBe("third");
    const tiny = new VerifiedMessages(entryBytes - 1);
    tiny.note(first, verifyRoomMessage(nodeSignatureProvider, first));
    expect(tiny.size).toBe(0);
  });
});
