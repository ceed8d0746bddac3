import { describe, expect, test } from "vitest";
import { isParleyError } from "../errors/parley-error.ts";
import { type DecodeLimits, defaultDecodeLimits } from "../limits.ts";
import { decodeHex, encodeHex } from "./bytes.ts";
import { decodeCanonical } from "./decode.ts";
import { encodeCanonical } from "./encode.ts";
import type { CborValue } from "./value.ts";

/** RFC 8949 Appendix A examples that lie inside Parley's value model. */
const rfc8949Examples: readonly [CborValue, string][] = [
  [0, "00"],
  [1, "01"],
  [10, "0a"],
  [23, "17"],
  [24, "1818"],
  [25, "1819"],
  [100, "1864"],
  [1000, "1903e8"],
  [1000000, "1a000f4240"],
  [1000000000000, "1b000000e8d4a51000"],
  [-1, "20"],
  [-10, "29"],
  [-100, "3863"],
  [-1000, "3903e7"],
  [false, "f4"],
  [true, "f5"],
  [null, "f6"],
  [new Uint8Array([]), "40"],
  [new Uint8Array([1, 2, 3, 4]), "4401020304"],
  ["", "60"],
  ["a", "6161"],
  ["IETF", "6449455446"],
  ['"\\', "62225c"],
  ["\u00fc", "62c3bc"],
  ["\u6c34", "63e6b0b4"],
  ["\u{10151}", "64f0908591"],
  [[], "80"],
  [[1, 2, 3], "83010203"],
  [[1, [2, 3], [4, 5]], "8301820203820405"],
  [
    Array.from({ length: 25 }, (_, index) => index + 1),
    "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
  ],
  [{}, "a0"],
  [{ a: 1, b: [2, 3] }, "a26161016162820203"],
  [["a", { b: "c" }], "826161a161626163"],
  [{ a: "A", b: "B", c: "C", d: "D", e: "E" }, "a56161614161626142616361436164614461656145"],
];

function expectRefused(hex: string, code = "bad_encoding", limits?: DecodeLimits): void {
  let thrown: unknown;
  try {
    decodeCanonical(decodeHex(hex), limits);
  } catch (error) {
    thrown = error;
  }
  expect(isParleyError(thrown), `${hex} should be refused`).toBe(true);
  if (isParleyError(thrown)) expect(thrown.code).toBe(code);
}

describe("canonical encoding", () => {
  test.each(rfc8949Examples)("%j encodes as in RFC 8949 Appendix A", (value, hex) => {
    expect(encodeHex(encodeCanonical(value))).toBe(hex);
    expect(decodeCanonical(decodeHex(hex))).toEqual(value);
  });

  test("the extremes of the safe integer range", () => {
    expect(encodeHex(encodeCanonical(Number.MAX_SAFE_INTEGER))).toBe("1b001fffffffffffff");
    expect(encodeHex(encodeCanonical(Number.MIN_SAFE_INTEGER))).toBe("3b001ffffffffffffe");
  });

  test("map keys sort by their encoded bytes: shorter keys first, then bytewise", () => {
    const encoded = encodeCanonical({ bb: 1, a: 2, c: 3, aaa: 4, B: 5 });
    expect(decodeCanonical(encoded)).toEqual({ B: 5, a: 2, c: 3, bb: 1, aaa: 4 });
    expect(encodeHex(encoded)).toBe("a5614205616102616303626262016361616104");
  });

  test("values outside the model are refused as a caller's mistake", () => {
    const outside: unknown[] = [
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      10n,
      undefined,
      [undefined],
      { a: undefined },
      "\uD800",
      new Map(),
      new Date(0),
      () => 1,
      Symbol("s"),
    ];
    for (const value of outside) {
      expect(() => encodeCanonical(value as CborValue), String(value)).toThrowError(
        expect.objectContaining({ code: "invalid_argument" }),
      );
    }
  });

  test("a cyclic value fails cleanly instead of overflowing the stack", () => {
    const cyclic: CborValue[] = [];
    cyclic.push(cyclic);
    expect(() => encodeCanonical(cyclic)).toThrowError(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });

  test("a leading U+FEFF in text survives a round trip", () => {
    const text = "\uFEFFabc";
    expect(decodeCanonical(encodeCanonical(text))).toBe(text);
    expect(decodeCanonical(encodeCanonical(`\uFEFF${"x".repeat(40)}`))).toHaveLength(41);
  });

  test("bytes come back as plain Uint8Array owning their memory, also from Buffer input", () => {
    const encoded = encodeCanonical({ key: new Uint8Array([1, 2]) });
    expect(Object.getPrototypeOf(encoded)).toBe(Uint8Array.prototype);
    expect(encoded.byteOffset).toBe(0);
    expect(encoded.buffer.byteLength).toBe(encoded.length);
    const decoded = decodeCanonical(Buffer.from(encoded)) as { key: Uint8Array };
    expect(Object.getPrototypeOf(decoded.key)).toBe(Uint8Array.prototype);
  });

  test("an own __proto__ key is data, not a prototype", () => {
    const decoded = decodeCanonical(decodeHex("a1695f5f70726f746f5f5f01"));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.hasOwn(decoded as object, "__proto__")).toBe(true);
  });
});

describe("canonical decoding refuses", () => {
  test.each([
    ["", "empty input"],
    ["1800", "a non-shortest integer"],
    ["190017", "a non-shortest integer (16-bit)"],
    ["5800", "a non-shortest length"],
    ["5f4100ff", "indefinite-length bytes"],
    ["7f6161ff", "indefinite-length text"],
    ["9fff", "an indefinite-length array"],
    ["bfff", "an indefinite-length map"],
    ["c000", "a tag"],
    ["c11a514b67b0", "an epoch-time tag"],
    ["f93c00", "a half-precision float"],
    ["fa3f800000", "a single-precision float"],
    ["fb3ff0000000000000", "a double-precision float"],
    ["f97e00", "NaN"],
    ["f97c00", "Infinity"],
    ["f7", "undefined"],
    ["f0", "a simple value"],
    ["f820", "a two-byte simple value"],
    ["1c", "a reserved additional-information value"],
    ["ff", "a lone break"],
    ["1b0020000000000000", "2^53, outside the safe range"],
    ["3b001fffffffffffff", "-2^53, outside the safe range"],
    ["a2616201616102", "unsorted map keys"],
    ["a262616101616202", "a longer key before a shorter one"],
    ["a2616101616102", "a duplicate map key"],
    ["a10101", "an integer map key"],
    ["a1400101", "a byte-string map key"],
    ["0000", "trailing bytes"],
    ["62c328", "ill-formed UTF-8"],
    ["63eda080", "a UTF-8-encoded surrogate"],
    ["6261", "truncated text"],
    ["8201", "a truncated array"],
    ["9b0000000100000000", "an array claiming 2^32 items"],
  ])("%s (%s)", (hex) => {
    expectRefused(hex);
  });

  test("input longer than the limit is payload_too_large", () => {
    const limits = { ...defaultDecodeLimits, totalBytesMax: 4 };
    expectRefused("4401020304", "payload_too_large", limits);
    expect(decodeCanonical(decodeHex("43010203"), limits)).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("strings, item counts and depth are limited while decoding", () => {
    const limits: DecodeLimits = {
      totalBytesMax: 1000,
      depthMax: 2,
      containerItemsMax: 2,
      stringBytesMax: 3,
    };
    expect(decodeCanonical(decodeHex("8281f6a0"), limits)).toEqual([[null], {}]);
    expectRefused("6461626364", "bad_encoding", limits);
    expectRefused("4401020304", "bad_encoding", limits);
    expectRefused("83010203", "bad_encoding", limits);
    expectRefused("a3616101616202616303", "bad_encoding", limits);
    expectRefused("818180", "bad_encoding", limits);
  });

  test("a million nested arrays are refused at the depth limit, not by the stack", () => {
    const depth = 1_000_000;
    const bytes = new Uint8Array(depth + 1).fill(0x81);
    bytes[depth] = 0x00;
    const limits = { ...defaultDecodeLimits, totalBytesMax: depth + 1 };
    const started = performance.now();
    expect(() => decodeCanonical(bytes, limits)).toThrowError(/nesting deeper than 16/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("nesting is counted in maps as in arrays, and empty containers count too", () => {
    const limits = { ...defaultDecodeLimits, depthMax: 3 };
    expect(decodeCanonical(decodeHex("a1616181a0"), limits)).toEqual({ a: [{}] });
    expectRefused("a1616181a1616280", "bad_encoding", limits);
    expect(decodeCanonical(decodeHex("83808080"), limits)).toEqual([[], [], []]);
  });

  test("limits beyond the hard maximum are a caller's mistake", () => {
    expect(() =>
      decodeCanonical(decodeHex("00"), { ...defaultDecodeLimits, depthMax: 65 }),
    ).toThrow(expect.objectContaining({ code: "invalid_argument" }));
  });
});
