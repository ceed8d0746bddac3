import { decodeBase64url, encodeBase64url } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64urlBytes } from "./json-fields.ts";

describe("base64url fields", () => {
  const field = base64urlBytes(64);

  it("agrees with the protocol's strict decoder on every canonical text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(field.parse(text)).toEqual(decodeBase64url(text));
      }),
    );
  });

  it.each([
    ["padding", "AAA="],
    ["a standard-alphabet character", "AA+A"],
    ["whitespace", "AA AA"],
    ["non-zero unused bits", "AB"],
    ["an impossible length", "AAAAA"],
  ])("refuses %s", (_, text) => {
    expect(field.safeParse(text).success).toBe(false);
  });

  it("refuses text longer than the byte bound before decoding it", () => {
    expect(field.safeParse("A".repeat(100)).success).toBe(false);
  });
});
