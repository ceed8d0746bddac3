import type { CborMap, CborValue } from "@parley/protocol";

/** Whether a decoded CBOR value is a map (the value model's only object that is not bytes or an array). */
export function isCborMap(value: CborValue): value is CborMap {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}
