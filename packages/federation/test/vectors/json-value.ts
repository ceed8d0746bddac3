/**
 * How CBOR values are written in the JSON test vectors, as in the protocol
 * package's vectors: a byte string is {"$bytes": "<lower-case hex>"};
 * everything else is itself. No vector has a map whose only key is "$bytes".
 */
import { type CborValue, decodeHex, encodeHex } from "@parley/protocol";

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
