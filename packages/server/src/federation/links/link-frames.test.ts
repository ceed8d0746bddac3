// Link frames: every frame decodes to what was encoded, and any bytes at all
// either decode or fail with one of the three edge codes, never anything else.

import { isParleyError } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeLinkFrame, encodeLinkFrame, type LinkFrame } from "./link-frames.ts";

const limits = { payloadBytesMax: 4096, handshakeFrameBytesMax: 4096 };
const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const sequence = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const payload = fc.uint8Array({ minLength: 1, maxLength: 256 });
const proof = {
  timeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  publicKey: bytes(32),
  receivedSequence: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  signature: bytes(64),
};

const frames: fc.Arbitrary<LinkFrame> = fc.oneof(
  fc.record({
    kind: fc.constant("hello" as const),
    versions: fc
      .uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 8 })
      .map((versions) => versions.sort((a, b) => a - b)),
    initiator: fc.constant("a.example"),
    responder: fc.constant("b.example"),
    initiatorNonce: bytes(32),
  }),
  fc.record({
    kind: fc.constant("accept" as const),
    version: fc.integer({ min: 1, max: 9 }),
    responderNonce: bytes(32),
    ...proof,
  }),
  fc.record({ kind: fc.constant("confirm" as const), ...proof }),
  fc.constant({ kind: "ready" as const }),
  fc.record({ kind: fc.constant("durable" as const), sequence, payload }),
  fc.record({ kind: fc.constant("best-effort" as const), payload }),
  fc.record({ kind: fc.constant("acknowledge" as const), sequence }),
  fc.record({
    kind: fc.constant("error" as const),
    code: fc.constantFrom("bad_structure" as const, "rate_limited" as const),
    message: fc.string({ maxLength: 100 }),
  }),
);

describe("link frames", () => {
  it("decode to what was encoded", () => {
    fc.assert(
      fc.property(frames, (frame) => {
        expect(decodeLinkFrame(encodeLinkFrame(frame), limits)).toEqual(frame);
      }),
    );
  });

  it("refuse any other bytes with an edge code only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        try {
          decodeLinkFrame(input, limits);
        } catch (error) {
          const coded = ["bad_encoding", "bad_structure", "payload_too_large"].some((code) =>
            isParleyError(error, code as "bad_encoding"),
          );
          expect(coded).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("hold a durable frame's sequence in 8 big-endian bytes after the kind", () => {
    const encoded = encodeLinkFrame({ kind: "durable", sequence: 258, payload: Uint8Array.of(7) });
    expect([...encoded]).toEqual([0x10, 0, 0, 0, 0, 0, 0, 1, 2, 7]);
  });
});
