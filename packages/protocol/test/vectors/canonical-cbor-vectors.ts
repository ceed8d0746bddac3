import { encodeHex } from "../../src/codec/bytes.ts";
import { encodeCanonical } from "../../src/codec/encode.ts";
import type { CborValue } from "../../src/codec/value.ts";
import { type JsonValue, toJsonValue } from "../../src/codec/vector-notation.ts";
import { type DecodeLimits, defaultDecodeLimits } from "../../src/limits.ts";

export interface CanonicalValidVector {
  readonly name: string;
  readonly value: JsonValue;
  readonly hex: string;
}

export interface CanonicalInvalidVector {
  readonly name: string;
  readonly hex: string;
  /** Limits to decode with, when not the defaults. */
  readonly limits?: DecodeLimits;
  readonly error: "bad_encoding" | "payload_too_large";
  readonly why: string;
}

const valid: readonly [string, CborValue][] = [
  ["zero", 0],
  ["largest one-byte integer", 23],
  ["smallest two-byte integer", 24],
  ["largest safe integer", Number.MAX_SAFE_INTEGER],
  ["smallest safe integer", Number.MIN_SAFE_INTEGER],
  ["minus one", -1],
  ["false, true and null", [false, true, null]],
  ["empty byte string", new Uint8Array()],
  ["byte string", new Uint8Array([0, 1, 0xfe, 0xff])],
  ["empty text", ""],
  ["text with a two-byte, three-byte and four-byte character", "\u00fc\u6c34\u{10151}"],
  ["text starting with U+FEFF, which must survive", "\uFEFFabc"],
  ["text of 24 bytes (length needs one extra byte)", "abcdefghijklmnopqrstuvwx"],
  ["nested arrays", [1, [2, 3], [4, [5]]]],
  ["empty map", {}],
  ["map keys sorted by length first, then bytewise", { bb: 1, a: 2, c: 3, aaa: 4, B: 5 }],
  ["map key order is by UTF-8 bytes, not UTF-16", { "\u{10151}": 1, "\uFFFF": 2 }],
  [
    "a device-record-like map",
    {
      version: 1,
      user: "alice@example.org",
      deviceKey: new Uint8Array(32).fill(7),
      sequence: 1,
      linkedDeviceKeys: [],
      validFromMs: 1735689600000,
      validUntilMs: 1743465600000,
    },
  ],
];

const invalid: readonly Omit<CanonicalInvalidVector, "error">[] = [
  { name: "empty input", hex: "", why: "there is no item" },
  { name: "non-shortest integer", hex: "1817", why: "23 fits in the initial byte" },
  { name: "non-shortest length", hex: "5800", why: "a zero length fits in the initial byte" },
  {
    name: "indefinite-length byte string",
    hex: "5f4100ff",
    why: "indefinite lengths are not allowed",
  },
  { name: "indefinite-length array", hex: "9f01ff", why: "indefinite lengths are not allowed" },
  { name: "indefinite-length map", hex: "bf616101ff", why: "indefinite lengths are not allowed" },
  { name: "tag", hex: "c11a514b67b0", why: "tags are not allowed" },
  { name: "half-precision float", hex: "f93c00", why: "floats are not allowed" },
  { name: "double-precision float", hex: "fb3ff8000000000000", why: "floats are not allowed" },
  { name: "NaN", hex: "f97e00", why: "floats are not allowed" },
  { name: "undefined", hex: "f7", why: "undefined is not in the value model" },
  { name: "simple value 16", hex: "f0", why: "only false, true and null are allowed" },
  { name: "reserved additional information", hex: "1c", why: "28 is not a valid length encoding" },
  { name: "lone break", hex: "ff", why: "a break outside an indefinite item" },
  { name: "2^53", hex: "1b0020000000000000", why: "outside the safe integer range" },
  { name: "-2^53", hex: "3b001fffffffffffff", why: "outside the safe integer range" },
  { name: "unsorted map keys", hex: "a2616201616102", why: '"b" before "a"' },
  { name: "longer key first", hex: "a262616101616202", why: "shorter encodings sort first" },
  { name: "duplicate map key", hex: "a2616101616102", why: "a map key appears twice" },
  { name: "integer map key", hex: "a10101", why: "map keys must be text" },
  { name: "trailing byte", hex: "0000", why: "the input is one item exactly" },
  { name: "ill-formed UTF-8", hex: "62c328", why: "0xc3 0x28 is not UTF-8" },
  { name: "UTF-8-encoded surrogate", hex: "63eda080", why: "surrogates are not scalar values" },
  { name: "truncated text", hex: "6261", why: "the text is shorter than its length" },
  {
    name: "array claiming 2^32 items",
    hex: "9b0000000100000000",
    why: "more items than the limit (and than the input)",
  },
  {
    name: "nesting deeper than the limit",
    hex: `${"81".repeat(17)}00`,
    why: "17 nested arrays, limit 16",
  },
  {
    name: "text longer than a small limit",
    hex: "6461626364",
    limits: { ...defaultDecodeLimits, stringBytesMax: 3 },
    why: "4 bytes of text, limit 3",
  },
  {
    name: "more items than a small limit",
    hex: "83010203",
    limits: { ...defaultDecodeLimits, containerItemsMax: 2 },
    why: "3 items, limit 2",
  },
];

export function canonicalCborVectors() {
  return {
    description:
      "Canonical CBOR (docs/protocol.md §3). Each valid value must encode to exactly `hex`, and `hex` must decode to the value. Each invalid input must be refused with `error`.",
    valueNotation:
      'A byte string is written {"$bytes": "<hex>"}; other values are themselves. No vector has a map whose only key is "$bytes".',
    defaultLimits: defaultDecodeLimits,
    valid: valid.map(
      ([name, value]): CanonicalValidVector => ({
        name,
        value: toJsonValue(value),
        hex: encodeHex(encodeCanonical(value)),
      }),
    ),
    invalid: [
      ...invalid.map((vector): CanonicalInvalidVector => ({ ...vector, error: "bad_encoding" })),
      {
        name: "input longer than the total limit",
        hex: "4401020304",
        limits: { ...defaultDecodeLimits, totalBytesMax: 4 },
        error: "payload_too_large",
        why: "5 bytes, limit 4",
      } satisfies CanonicalInvalidVector,
    ],
  };
}
