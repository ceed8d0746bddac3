import { encodeBase64url } from "../codec/base64url.ts";
import { equalBytes } from "../codec/bytes.ts";
import { ParleyError } from "../errors/parley-error.ts";
import type { ServerKeyEntry } from "./schema.ts";

/** Anything listing server keys: a verified document, or a body being built. */
export interface ServerKeyList {
  readonly keys: readonly ServerKeyEntry[];
}

/** Whether `key` was valid at `timeMs`: validFromMs ≤ timeMs < validUntilMs (open-ended if null). */
export function isServerKeyValidAt(key: ServerKeyEntry, timeMs: number): boolean {
  return key.validFromMs <= timeMs && (key.validUntilMs === null || timeMs < key.validUntilMs);
}

export function findServerKey(
  list: ServerKeyList,
  publicKey: Uint8Array,
): ServerKeyEntry | undefined {
  return list.keys.find((key) => equalBytes(key.publicKey, publicKey));
}

/** Every key valid at `timeMs`; during a rotation, two may overlap. */
export function serverKeysValidAt(list: ServerKeyList, timeMs: number): readonly ServerKeyEntry[] {
  return list.keys.filter((key) => isServerKeyValidAt(key, timeMs));
}

/**
 * The entry of `publicKey` if it was valid at `timeMs`: what a verifier asks
 * before trusting an old signature. Throws `server_key_unknown` when the key
 * is not listed (never was, or was withdrawn), `server_key_not_valid` when it
 * is listed but was outside its window at that time.
 */
export function serverKeyValidAt(
  list: ServerKeyList,
  publicKey: Uint8Array,
  timeMs: number,
): ServerKeyEntry {
  const key = findServerKey(list, publicKey);
  if (key === undefined) {
    const shown = encodeBase64url(publicKey);
    throw new ParleyError("server_key_unknown", `server key ${shown} is not in the key document`);
  }
  if (!isServerKeyValidAt(key, timeMs)) {
    const shown = encodeBase64url(publicKey);
    throw new ParleyError("server_key_not_valid", `server key ${shown} was not valid at ${timeMs}`);
  }
  return key;
}
