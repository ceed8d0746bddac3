/**
 * The contract every Ed25519 implementation used by Parley fulfils. Two exist:
 * `nobleSignatureProvider` (pure JavaScript, runs in browsers) and the
 * node:crypto one (exported from "@parley/protocol/node", about ten times
 * faster at verifying). Both pass the same compliance suite and must agree on
 * every input; protocol code depends only on this interface.
 *
 * All operations are synchronous. Keys and seeds are 32 bytes, signatures 64
 * bytes (RFC 8032 §5.1). Signing is deterministic, so equal inputs give equal
 * signatures whichever provider made them.
 */
export interface SignatureProvider {
  /** A short name for logs and benchmark tables, e.g. "noble" or "node". */
  readonly name: string;
  /** A new key pair from the platform's cryptographic random source. */
  generateKeyPair(): KeyPair;
  /** The public key of a 32-byte secret seed (RFC 8032 §5.1.5). Throws `invalid_argument` for another length. */
  publicKeyFromSeed(secretSeed: Uint8Array): Uint8Array;
  /**
   * Signs `message` with `keyPair.secretSeed`. The key pair must come from
   * this package (`keyPairFromSeed` or `generateKeyPair`) so its public key
   * matches its seed. Implementations may cache per key pair object.
   */
  sign(keyPair: KeyPair, message: Uint8Array): Uint8Array;
  /**
   * True only if `signature` is a valid RFC 8032 signature of `message` under
   * `publicKey`, with canonical S and R. Never throws for 32-byte keys and
   * 64-byte signatures, whatever their content; throws `invalid_argument` for
   * other lengths. Weak keys are refused one level up, in `verifyInContext`.
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export interface KeyPair {
  readonly publicKey: Uint8Array;
  /** The 32-byte RFC 8032 private key ("seed"). Never leaves the device or server that made it. */
  readonly secretSeed: Uint8Array;
}

export const publicKeyBytes = 32;
export const secretSeedBytes = 32;
export const signatureBytes = 64;

/** The key pair of a seed, with the public key computed by `provider`. */
export function keyPairFromSeed(provider: SignatureProvider, secretSeed: Uint8Array): KeyPair {
  const seed = Uint8Array.from(secretSeed);
  return Object.freeze({ publicKey: provider.publicKeyFromSeed(seed), secretSeed: seed });
}
