import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../codec/bytes.ts";
import { assertArgument } from "../errors/parley-error.ts";
import {
  type KeyPair,
  keyPairFromSeed,
  publicKeyBytes,
  type SignatureProvider,
  secretSeedBytes,
  signatureBytes,
} from "./signature-provider.ts";

/**
 * Ed25519 on @noble/curves: audited pure JavaScript, so it runs in browsers
 * and anywhere else. About ten times slower than node:crypto at verifying;
 * servers use the node provider.
 *
 * Verification uses RFC 8032 rules (`zip215: false`): non-canonical encodings
 * of R and of the public key, and S ≥ L, are refused, as OpenSSL does.
 *
 * RFC 8032 §5.1.7 lets verifiers check either the cofactored equation
 * [8][S]B = [8]R + [8][k]A or the cofactorless one [S]B = R + [k]A. noble
 * checks the first, OpenSSL the second, and they disagree on signatures whose
 * R carries a small-order component, which a key holder can craft. Parley
 * requires the cofactorless equation (docs/protocol.md §4.2), so this
 * provider also checks it after noble's verify, with noble's own point
 * operations, and agrees with node:crypto on every input.
 */
export const nobleSignatureProvider: SignatureProvider = {
  name: "noble",

  generateKeyPair(): KeyPair {
    return keyPairFromSeed(nobleSignatureProvider, ed25519.utils.randomSecretKey());
  },

  publicKeyFromSeed(secretSeed: Uint8Array): Uint8Array {
    assertArgument(secretSeed.length === secretSeedBytes, "a secret seed is 32 bytes");
    return ed25519.getPublicKey(secretSeed);
  },

  sign(keyPair: KeyPair, message: Uint8Array): Uint8Array {
    assertArgument(keyPair.secretSeed.length === secretSeedBytes, "a secret seed is 32 bytes");
    return ed25519.sign(message, keyPair.secretSeed);
  },

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    assertArgument(publicKey.length === publicKeyBytes, "a public key is 32 bytes");
    assertArgument(signature.length === signatureBytes, "a signature is 64 bytes");
    try {
      return (
        ed25519.verify(signature, message, publicKey, { zip215: false }) &&
        holdsWithoutCofactor(publicKey, message, signature)
      );
    } catch {
      // noble throws for encodings that are not curve points; for a verifier
      // that is simply a signature that does not verify.
      return false;
    }
  },
};

/**
 * [S]B = R + [k]A with k = SHA-512(R || A || message) mod L (RFC 8032
 * §5.1.7, the equation without the cofactor). Called only after noble's
 * verify accepted, so R and A decode and S < L.
 */
function holdsWithoutCofactor(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const { Point } = ed25519;
  const encodedR = signature.subarray(0, 32);
  const r = Point.fromBytes(encodedR);
  const a = Point.fromBytes(publicKey);
  const s = bytesToNumberLE(signature.subarray(32));
  const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(encodedR, publicKey, message))));
  return Point.BASE.multiplyUnsafe(s).equals(r.add(a.multiplyUnsafe(k)));
}
