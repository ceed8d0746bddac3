import { encodeHex } from "../codec/bytes.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { publicKeyBytes } from "./signature-provider.ts";

/**
 * The y coordinates (sign bit cleared, little-endian hex) of the eight points
 * of small order on edwards25519: the identity, the point of order 2, the two
 * of order 4 (y = 0) and the four of order 8. A key whose y is one of these is
 * a small-order point under either sign bit, canonical or not.
 */
const smallOrderY = new Set([
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
]);

/**
 * Whether `bytes` may be used as an Ed25519 public key in Parley: 32 bytes,
 * y canonical (below p = 2^255 − 19), and not a small-order point. Weak keys
 * are refused because with them one signature can verify for many messages.
 * A 32-byte string that is not a curve point at all passes this check but
 * fails every signature verification, so it can never sign anything.
 */
export function isAcceptablePublicKey(bytes: Uint8Array): boolean {
  if (bytes.length !== publicKeyBytes) return false;
  const y = Uint8Array.from(bytes);
  y[31] = (y[31] ?? 0) & 0x7f;
  return isBelowFieldPrime(y) && !smallOrderY.has(encodeHex(y));
}

/** Throws `bad_public_key` unless `bytes` is an acceptable public key. */
export function assertAcceptablePublicKey(bytes: Uint8Array, what: string): void {
  if (!isAcceptablePublicKey(bytes)) {
    throw new ParleyError("bad_public_key", `${what} is not an acceptable Ed25519 public key`);
  }
}

/** p = 2^255 − 19 is, little-endian: ed ff ff … ff 7f. */
function isBelowFieldPrime(y: Uint8Array): boolean {
  if (y[31] !== 0x7f) return true;
  for (let index = 30; index >= 1; index -= 1) if (y[index] !== 0xff) return true;
  return (y[0] ?? 0) < 0xed;
}
