import { ed25519 } from "@noble/curves/ed25519.js";
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
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      // noble throws for encodings that are not curve points; for a verifier
      // that is simply a signature that does not verify.
      return false;
    }
  },
};
