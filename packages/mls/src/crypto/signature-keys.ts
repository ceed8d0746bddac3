import type { Signature } from "ts-mls";

/** WebCrypto's key type, named through the global so no platform module is imported. */
type ImportedKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

/**
 * ts-mls's Ed25519 (both providers) goes through WebCrypto and imports the
 * key again on every signature and every verification; the import costs more
 * than the signature. This wrapper runs the very same WebCrypto operations
 * but keeps each imported key for as long as its bytes object lives (ts-mls
 * passes the same Uint8Array from the state for the signing key, and from
 * the tree's leaf for each verification key). Measured: encrypt plus decrypt
 * about 1.8 times faster. Keys are never copied or keyed by value, so no
 * secret ends up in a map key, and the maps empty themselves with the state.
 *
 * Where WebCrypto has no Ed25519 (ts-mls then uses @noble/curves), the
 * library's implementation is used unchanged.
 */
export function reuseImportedKeys(library: Signature): Signature {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return library;
  const signingKeys = new WeakMap<Uint8Array, Promise<ImportedKey>>();
  const verifyingKeys = new WeakMap<Uint8Array, Promise<ImportedKey>>();
  return {
    keygen: () => library.keygen(),
    async sign(signKey, message) {
      let key = signingKeys.get(signKey);
      if (key === undefined) {
        key = subtle.importKey("pkcs8", pkcs8Of(signKey), "Ed25519", false, ["sign"]);
        signingKeys.set(signKey, key);
      }
      return new Uint8Array(await subtle.sign("Ed25519", await key, bufferOf(message)));
    },
    async verify(publicKey, message, signature) {
      let key = verifyingKeys.get(publicKey);
      if (key === undefined) {
        key = subtle.importKey("raw", bufferOf(publicKey), "Ed25519", false, ["verify"]);
        verifyingKeys.set(publicKey, key);
      }
      try {
        return await subtle.verify("Ed25519", await key, bufferOf(signature), bufferOf(message));
      } catch {
        // A malformed key or signature from a peer is an invalid signature, as in ts-mls.
        verifyingKeys.delete(publicKey);
        return false;
      }
    },
  };
}

/** RFC 8410 PrivateKeyInfo for a 32-byte Ed25519 seed, as ts-mls builds it; other lengths are PKCS#8 already. */
const pkcs8Prefix = [
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

function pkcs8Of(signKey: Uint8Array): ArrayBuffer {
  return bufferOf(signKey.length === 32 ? Uint8Array.from([...pkcs8Prefix, ...signKey]) : signKey);
}

function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
