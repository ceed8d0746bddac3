import { encodeCanonical, ParleyError } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodePlaintext, encodePlaintext } from "./plaintext.ts";

const contentTypes = fc.stringMatching(/^[a-z]{1,20}\/[a-z0-9.+-]{1,40}$/);

describe("the plaintext inside an encrypted message", () => {
  it("round-trips every content type and body", () => {
    fc.assert(
      fc.property(contentTypes, fc.uint8Array({ maxLength: 2048 }), (contentType, body) => {
        const decoded = decodePlaintext(encodePlaintext({ contentType, body }));
        expect(decoded.contentType).toBe(contentType);
        expect(Array.from(decoded.body)).toEqual(Array.from(body));
      }),
    );
  });

  it("refuses anything else with a coded error", () => {
    const wrong = [
      encodeCanonical({ body: new Uint8Array(1), contentType: "text/plain", version: 2 }),
      encodeCanonical({ body: "text", contentType: "text/plain", version: 1 }),
      encodeCanonical({ body: new Uint8Array(1), contentType: "", version: 1 }),
      encodeCanonical({ body: new Uint8Array(1), version: 1 }),
      encodeCanonical([1, 2, 3]),
      new Uint8Array([0xff]),
    ];
    for (const bytes of wrong) {
      expect(() => decodePlaintext(bytes)).toThrow(ParleyError);
    }
  });

  it("never throws anything but a ParleyError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodePlaintext(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ParleyError);
        }
      }),
    );
  });
});
