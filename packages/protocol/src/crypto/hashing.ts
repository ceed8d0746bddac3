import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export const sha256Bytes = 32;

/** SHA-256 (FIPS 180-4), used for content ids. Pure JavaScript, so it runs in browsers too. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes);
}
