import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeCanonical } from "../codec/decode.ts";
import { encodeCanonical } from "../codec/encode.ts";
import type { CborMap } from "../codec/value.ts";
import { sha256 } from "../crypto/hashing.ts";
import { nodeSignatureProvider } from "../crypto/node-provider.ts";
import { keyPairFromSeed } from "../crypto/signature-provider.ts";
import { roomIdFromBytes } from "../identifiers/room-id.ts";
import { roomMessageBodyBytesMax } from "./limits.ts";
import { signRoomMessage, verifyRoomMessage } from "./room-message.ts";

const device = keyPairFromSeed(
  nodeSignatureProvider,
  sha256(new TextEncoder().encode("parley property seed: room message")),
);

const fieldsArbitrary = fc.record({
  room: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  contentType: fc.constantFrom("text/plain; charset=utf-8", "application/octet-stream", "x/y"),
  body: fc.uint8Array({ maxLength: 2048 }),
  clientId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  sentAtMs: fc.integer({ min: 0, max: 2 ** 52 }),
});

describe("room message verification (property)", () => {
  test("the signed bytes it returns are exactly the message map's canonical encoding", () => {
    fc.assert(
      fc.property(fieldsArbitrary, (fields) => {
        const envelope = signRoomMessage(nodeSignatureProvider, device, {
          roomId: roomIdFromBytes(fields.room),
          contentType: fields.contentType,
          body: fields.body,
          clientId: fields.clientId,
          sentAtMs: fields.sentAtMs,
        });
        const verified = verifyRoomMessage(nodeSignatureProvider, envelope);
        const decoded = decodeCanonical(envelope) as unknown as { message: CborMap };
        expect(verified.signedBytes).toEqual(encodeCanonical(decoded.message));
      }),
      { numRuns: 200 },
    );
  });

  test("a body at the size limit still verifies with its signed bytes intact", () => {
    const envelope = signRoomMessage(nodeSignatureProvider, device, {
      roomId: roomIdFromBytes(new Uint8Array(16).fill(7)),
      contentType: "application/octet-stream",
      body: new Uint8Array(roomMessageBodyBytesMax).fill(1),
      clientId: "large",
      sentAtMs: 1,
    });
    const verified = verifyRoomMessage(nodeSignatureProvider, envelope);
    expect(verified.body.length).toBe(roomMessageBodyBytesMax);
    expect(verified.signedBytes.length).toBeLessThan(envelope.length);
  });
});
