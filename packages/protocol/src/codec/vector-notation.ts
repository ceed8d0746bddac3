/**
 * How CBOR values are written in the JSON test vectors of every Parley
 * package (docs/protocol.md, chapter 8), shared so each suite reads and
 * writes them the same way. JSON has no byte
 * strings, so a byte string is written as an object with the single key
 * "$bytes" holding lower-case hex. No vector contains a map whose only key is
 * "$bytes". Everything else is itself: null, booleans, integers, text,
 * arrays, and objects for text-keyed maps.
 */
import { decodeHex, encodeHex } from "./bytes.ts";
import type { CborValue } from "./value.ts";

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export function toJsonValue(value: CborValue): JsonValue {
  if (value instanceof Uint8Array) return { $bytes: encodeHex(value) };
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, CborValue>);
    return Object.fromEntries(entries.map(([key, item]) => [key, toJsonValue(item)]));
  }
  return value as JsonValue;
}

export function fromJsonValue(value: JsonValue): CborValue {
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    const { $bytes: bytes } = value;
    if (keys.length === 1 && typeof bytes === "string") return decodeHex(bytes);
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fromJsonValue(item)]),
    );
  }
  return value;
}
