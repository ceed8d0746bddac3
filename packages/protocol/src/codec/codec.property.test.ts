import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isParleyError } from "../errors/parley-error.ts";
import { decodeBase64url, encodeBase64url } from "./base64url.ts";
import { decodeCanonical } from "./decode.ts";
import { encodeCanonical } from "./encode.ts";
import type { CborValue } from "./value.ts";

const leaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -100, max: 100 }),
  fc.maxSafeInteger(),
  fc.string({ unit: "binary" }),
  fc.uint8Array({ maxLength: 40 }),
);

const { value: cborValue } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: "binary", maxLength: 6 }), tie("value"), {
      maxKeys: 6,
      noNullPrototype: true,
    }),
  ),
}));

/** Decoding must either succeed or throw a ParleyError; anything else fails the property. */
function decodeOrParleyError(bytes: Uint8Array): void {
  try {
    decodeCanonical(bytes);
  } catch (error) {
    if (!isParleyError(error)) throw error;
    expect(["bad_encoding", "payload_too_large"]).toContain(error.code);
  }
}

/** One random edit of an encoding: flip a bit, insert, delete or overwrite a byte. */
const mutation = fc.record({
  kind: fc.constantFrom("flip", "insert", "delete", "overwrite"),
  position: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(
  bytes: Uint8Array,
  edit: typeof mutation extends fc.Arbitrary<infer T> ? T : never,
) {
  const position = bytes.length === 0 ? 0 : edit.position % bytes.length;
  const copy = Array.from(bytes);
  if (edit.kind === "flip") copy[position] = (copy[position] ?? 0) ^ (1 << (edit.byte % 8));
  if (edit.kind === "insert") copy.splice(position, 0, edit.byte);
  if (edit.kind === "delete") copy.splice(position, 1);
  if (edit.kind === "overwrite") copy[position] = edit.byte;
  return new Uint8Array(copy);
}

describe("canonical CBOR properties", () => {
  test("decode(encode(x)) equals x", () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        expect(decodeCanonical(encodeCanonical(value))).toEqual(value);
      }),
      { numRuns: 2000 },
    );
  });

  test("re-encoding decoded bytes gives identical bytes", () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        const bytes = encodeCanonical(value);
        expect(encodeCanonical(decodeCanonical(bytes))).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  test("random bytes only ever produce a value or a ParleyError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodeOrParleyError), {
      numRuns: 20000,
    });
  });

  test("mutated encodings only ever produce a value or a ParleyError", () => {
    fc.assert(
      fc.property(cborValue, fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, edits) => {
        let bytes = encodeCanonical(value);
        for (const edit of edits) bytes = mutate(bytes, edit);
        decodeOrParleyError(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  test("whatever decodes is canonical: it re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(cborValue, mutation, (value, edit) => {
        const bytes = mutate(encodeCanonical(value), edit);
        let decoded: CborValue;
        try {
          decoded = decodeCanonical(bytes);
        } catch {
          return;
        }
        expect(encodeCanonical(decoded)).toEqual(bytes);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("base64url properties", () => {
  test("agrees with Node's encoder and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(decodeBase64url(text)).toEqual(bytes);
      }),
    );
  });

  test("every text decodes to bytes with exactly that text, or is refused", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ";
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 }), (text) => {
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64url(text);
        } catch (error) {
          expect(isParleyError(error, "bad_encoding")).toBe(true);
          return;
        }
        expect(encodeBase64url(bytes)).toBe(text);
      }),
    );
  });
});
