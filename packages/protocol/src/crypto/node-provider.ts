/**
 * Ed25519 on node:crypto (OpenSSL). The only module of this package that uses
 * a Node API; it is exported separately as "@parley/protocol/node" so browser
 * bundles never reach node:crypto.
 *
 * Public keys are imported as JWK ({kty: "OKP", crv: "Ed25519", x}), which
 * measured about 9,900 import+verify/s against about 5,700/s through DER.
 * The most recently used imported public keys are kept (keyed by their exact
 * base64url text, so a hit is always the same key): a homeserver's key signs
 * every record it attests, and the import is about an eighth of a verification.
 * Importing a private key is slow (about 2,500/s), so the imported key is kept
 * per KeyPair object in a WeakMap, next to a copy of the seed it came from so
 * a seed changed in place is never signed with stale key material.
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { assertArgument } from "../errors/parley-error.ts";
import {
  type KeyPair,
  keyPairFromSeed,
  publicKeyBytes,
  type SignatureProvider,
  secretSeedBytes,
  signatureBytes,
} from "./signature-provider.ts";

/** PKCS #8 wrapping of an Ed25519 seed (RFC 8410 §7): a fixed 16-byte prefix. */
const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

interface ImportedSecret {
  readonly seedCopy: Buffer;
  readonly key: KeyObject;
}

const importedSecrets = new WeakMap<KeyPair, ImportedSecret>();

/** Imported public keys kept; a bound so a flood of distinct keys costs bounded memory. */
const importedPublicKeysMax = 256;
const importedPublicKeys = new Map<string, KeyObject>();

/** The imported key for `publicKey`, or undefined if OpenSSL refuses the encoding. */
function importPublic(publicKey: Uint8Array): KeyObject | undefined {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString(
    "base64url",
  );
  const cached = importedPublicKeys.get(x);
  if (cached !== undefined) {
    importedPublicKeys.delete(x);
    importedPublicKeys.set(x, cached);
    return cached;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    // OpenSSL refuses some encodings at import; none of them can verify.
    return undefined;
  }
  importedPublicKeys.set(x, key);
  if (importedPublicKeys.size > importedPublicKeysMax) {
    const oldest = importedPublicKeys.keys().next();
    if (oldest.done !== true) importedPublicKeys.delete(oldest.value);
  }
  return key;
}

function importSecret(secretSeed: Uint8Array): KeyObject {
  assertArgument(secretSeed.length === secretSeedBytes, "a secret seed is 32 bytes");
  const der = Buffer.concat([pkcs8Prefix, secretSeed]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

function secretKeyOf(keyPair: KeyPair): KeyObject {
  const cached = importedSecrets.get(keyPair);
  if (cached?.seedCopy.equals(keyPair.secretSeed)) return cached.key;
  const key = importSecret(keyPair.secretSeed);
  importedSecrets.set(keyPair, { seedCopy: Buffer.from(keyPair.secretSeed), key });
  return key;
}

export const nodeSignatureProvider: SignatureProvider = {
  name: "node",

  generateKeyPair(): KeyPair {
    return keyPairFromSeed(nodeSignatureProvider, randomBytes(secretSeedBytes));
  },

  publicKeyFromSeed(secretSeed: Uint8Array): Uint8Array {
    const jwk = createPublicKey(importSecret(secretSeed)).export({ format: "jwk" });
    assertArgument(typeof jwk.x === "string", "node:crypto exported no public key");
    return new Uint8Array(Buffer.from(jwk.x, "base64url"));
  },

  sign(keyPair: KeyPair, message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, secretKeyOf(keyPair)));
  },

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    assertArgument(publicKey.length === publicKeyBytes, "a public key is 32 bytes");
    assertArgument(signature.length === signatureBytes, "a signature is 64 bytes");
    const key = importPublic(publicKey);
    return key !== undefined && verify(null, message, key, signature);
  },
};
