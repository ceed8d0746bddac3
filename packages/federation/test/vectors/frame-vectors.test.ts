import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeHex, encodeHex, fromJsonValue, isParleyError } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, frameValue } from "../../src/frames/frame-codec.ts";
import { buildFrameVectors, type FrameVectorFile, serializeVectors } from "./frame-vectors.ts";

const path = fileURLToPath(new URL("../../test-vectors/frames.json", import.meta.url));
const committed = readFileSync(path, "utf8");
const vectors = JSON.parse(committed) as FrameVectorFile;

describe("frame test vectors", () => {
  it("are what the builder writes (regenerate with scripts/generate-test-vectors.ts)", () => {
    expect(committed).toBe(serializeVectors(buildFrameVectors()));
  });

  it("cover every frame type", () => {
    const types = new Set(vectors.valid.map((vector) => (vector.value as { type: string }).type));
    expect([...types].sort()).toEqual(
      [
        "attach",
        "backfill-request",
        "backfill-response",
        "control",
        "control-signature",
        "detach",
        "device-list",
        "heartbeats",
        "invite",
        "key-package-claim",
        "key-package-claim-result",
        "link-state",
        "marks",
        "node-query",
        "node-status",
        "raft",
        "receipts",
        "routed",
        "submit",
        "submit-result",
      ].sort(),
    );
  });

  for (const vector of vectors.valid) {
    it(`decodes and re-encodes: ${vector.name}`, () => {
      const frame = decodeFrame(decodeHex(vector.hex));
      expect(frameValue(frame)).toEqual(fromJsonValue(vector.value));
      expect(encodeHex(encodeFrame(frame))).toBe(vector.hex);
    });
  }

  for (const vector of vectors.invalid) {
    it(`refuses with ${vector.error}: ${vector.name}`, () => {
      let caught: unknown;
      try {
        decodeFrame(decodeHex(vector.hex));
      } catch (thrown) {
        caught = thrown;
      }
      expect(isParleyError(caught)).toBe(true);
      expect((caught as { code: string }).code).toBe(vector.error);
    });
  }
});
