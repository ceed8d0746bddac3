import {
  encodeCanonical,
  isParleyError,
  makeUserId,
  roomIdFromBytes,
  type ServerName,
} from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validFrames } from "../../test/vectors/frame-vectors.ts";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { messageBodyBytesMax, ordinaryFrameBytesMax } from "../limits.ts";
import type { Frame } from "./frame.ts";
import { decodeFrame, encodeFrame, frameValue } from "./frame-codec.ts";

function refusal(bytes: Uint8Array): string {
  try {
    decodeFrame(bytes);
  } catch (thrown) {
    if (isParleyError(thrown)) return thrown.code;
    throw thrown;
  }
  return "accepted";
}

const room = roomIdFromBytes(new Uint8Array(16));
const alpha = "alpha.example" as ServerName;

describe("frame codec", () => {
  it("round-trips every sample frame", () => {
    for (const { frame } of validFrames()) {
      expect(frameValue(decodeFrame(encodeFrame(frame)))).toEqual(frameValue(frame));
    }
  });

  it("carries a configuration change's condition, and writes no key without one", () => {
    const alpha1 = sponsorNodeId(alpha, 1);
    const beta = sponsorNodeId("beta.example" as ServerName, 1);
    const change = {
      transition: "auto" as const,
      changes: [{ type: "removeNode" as const, nodeId: beta }],
      context: new Uint8Array(0),
    };
    const expectedConfState = {
      voters: [alpha1, beta],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    };
    const frameOf = (payload: typeof change & { expectedConfState?: typeof expectedConfState }) =>
      ({
        type: "raft",
        messages: [
          {
            room,
            message: {
              type: "propose",
              from: beta,
              to: alpha1,
              term: 0,
              entries: [{ type: "confChange", change: payload }],
            },
          },
        ],
      }) satisfies Frame;
    const conditional = frameOf({ ...change, expectedConfState });
    const decoded = decodeFrame(encodeFrame(conditional));
    expect(decoded).toEqual(conditional);
    const plain = encodeFrame(frameOf(change));
    expect(new TextDecoder("latin1").decode(plain)).not.toContain("expectedConfState");
    expect(decodeFrame(plain)).toEqual(frameOf(change));
  });

  it("refuses an ordinary frame over its size limit before looking further", () => {
    const body = new Uint8Array(messageBodyBytesMax);
    const messages = Array.from({ length: 70 }, (_, index) => ({
      room,
      origin: sponsorNodeId(alpha, 1),
      sequence: index + 1,
      controlIndex: 1,
      acceptedAtMs: 0,
      sender: makeUserId("alice", alpha),
      clientMessageId: `m${index}`,
      body,
    }));
    const frame: Frame = {
      type: "backfill-response",
      room,
      origin: sponsorNodeId(alpha, 1),
      messages,
    };
    const bytes = encodeFrame(frame);
    expect(bytes.length).toBeGreaterThan(ordinaryFrameBytesMax);
    expect(refusal(bytes)).toBe("payload_too_large");
  });

  it("refuses a message body over its limit", () => {
    const frame = validFrames().find((vector) => vector.frame.type === "routed")?.frame;
    if (frame?.type !== "routed") throw new Error("the vectors have a routed frame");
    const large = {
      ...frame,
      message: { ...frame.message, body: new Uint8Array(messageBodyBytesMax + 1) },
    };
    expect(refusal(encodeFrame(large))).toBe("bad_structure");
  });

  it("never throws anything but a ParleyError, whatever the bytes", () => {
    const samples = validFrames().map(({ frame }) => encodeFrame(frame));
    const mutated = fc
      .tuple(fc.nat(samples.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([which, position, value]) => {
        const bytes = Uint8Array.from(samples[which] ?? []);
        if (bytes.length > 0) bytes[position % bytes.length] = value;
        return bytes;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        expect(() => refusal(bytes)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("refuses values that are CBOR but not frames", () => {
    expect(refusal(encodeCanonical([1, 2, 3]))).toBe("bad_structure");
    expect(refusal(encodeCanonical({ type: "attach", room, controlIndex: -1 }))).toBe(
      "bad_structure",
    );
  });
});
