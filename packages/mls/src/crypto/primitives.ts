import type { Hash, Kdf, Signature } from "ts-mls";

/**
 * Replacements for the cipher suite's primitives inside ts-mls, which takes
 * its hash, HKDF, AEAD and signature implementations as values (its
 * CiphersuiteImpl). Parley uses this on Node to call OpenSSL synchronously
 * (`@parley/mls/node`, crypto/node-primitives.ts) instead of WebCrypto; HPKE
 * (path secrets, Welcomes) and key generation stay ts-mls's. Implementations
 * must compute exactly the suite's functions (SHA-256, HMAC-SHA256,
 * HKDF-SHA256, AES-GCM with a 16-byte tag appended, Ed25519) and throw on an
 * AEAD authentication failure with a message containing "invalid tag".
 */
export interface MlsPrimitives {
  /** For benchmark labels and logs. */
  readonly name: string;
  readonly hash: Hash;
  readonly kdf: Kdf;
  readonly aead: {
    encrypt(
      key: Uint8Array,
      nonce: Uint8Array,
      aad: Uint8Array | undefined,
      plaintext: Uint8Array,
    ): Promise<Uint8Array>;
    decrypt(
      key: Uint8Array,
      nonce: Uint8Array,
      aad: Uint8Array | undefined,
      sealed: Uint8Array,
    ): Promise<Uint8Array>;
  };
  readonly ed25519: Pick<Signature, "sign" | "verify">;
}
