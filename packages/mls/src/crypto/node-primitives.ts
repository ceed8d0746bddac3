/**
 * The cipher suite's primitives on node:crypto (OpenSSL), called
 * synchronously, for ts-mls to use instead of its WebCrypto ones on Node.
 *
 * Why: ts-mls runs every HMAC, HKDF step, AES-GCM operation and Ed25519
 * signature through WebCrypto (directly or through @hpke/core), importing
 * the key again each time. On Node each WebCrypto call is a key import plus a
 * round trip through the thread pool and the microtask queue, which costs
 * about a hundred times the primitive itself on a 200-byte message; one
 * application message makes about a dozen such calls. The same OpenSSL
 * functions called synchronously return at once. Nothing cryptographic is
 * implemented here except HKDF's two steps (RFC 5869), which are HMAC calls;
 * `node-primitives.test.ts` checks every function against ts-mls's own.
 *
 * Node only: browsers keep ts-mls's providers. Exported as `@parley/mls/node`
 * and passed to `createMlsCrypto({ primitives: nodePrimitives })`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import type { MlsPrimitives } from "./primitives.ts";

const hashName = "sha256";
const hashBytes = 32;
const tagBytes = 16;

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(hashName, key).update(data).digest());
}

/** RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), concatenated and cut to `length`. */
function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * hashBytes) {
    throw new RangeError("HKDF-Expand: length out of range");
  }
  const output = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let block = 1, offset = 0; offset < length; block += 1) {
    previous = new Uint8Array(
      createHmac(hashName, prk).update(previous).update(info).update(Uint8Array.of(block)).digest(),
    );
    output.set(previous.subarray(0, length - offset), offset);
    offset += previous.length;
  }
  return output;
}

function aesGcmName(key: Uint8Array): "aes-128-gcm" | "aes-256-gcm" {
  if (key.length === 16) return "aes-128-gcm";
  if (key.length === 32) return "aes-256-gcm";
  throw new RangeError("AES-GCM: the key must be 16 or 32 bytes");
}

function aesGcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  plaintext: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv(aesGcmName(key), key, nonce, { authTagLength: tagBytes });
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();
  const sealed = new Uint8Array(head.length + tail.length + tag.length);
  sealed.set(head, 0);
  sealed.set(tail, head.length);
  sealed.set(tag, head.length + tail.length);
  return sealed;
}

function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  sealed: Uint8Array,
): Uint8Array {
  if (sealed.length < tagBytes) throw new Error("AES-GCM: invalid tag (ciphertext too short)");
  const decipher = createDecipheriv(aesGcmName(key), key, nonce, { authTagLength: tagBytes });
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
  const head = decipher.update(sealed.subarray(0, sealed.length - tagBytes));
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    // The message matches what the MLS layer reads as an authentication failure.
    throw new Error("AES-GCM: invalid tag");
  }
  const plaintext = new Uint8Array(head.length + tail.length);
  plaintext.set(head, 0);
  plaintext.set(tail, head.length);
  return plaintext;
}

/** RFC 8410 PrivateKeyInfo prefix for a 32-byte Ed25519 seed (ts-mls passes seeds or PKCS#8). */
const pkcs8Prefix = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);
/** RFC 8410 SubjectPublicKeyInfo prefix for a 32-byte Ed25519 public key. */
const spkiPrefix = Uint8Array.of(
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
);

function withPrefix(prefix: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.concat([prefix, key]);
}

/**
 * Key objects are kept per key bytes object (ts-mls passes the same
 * Uint8Array from the state or the tree each time), never keyed by value, so
 * no secret becomes a map key and the caches empty themselves with the state.
 */
const signingKeys = new WeakMap<Uint8Array, KeyObject>();
const verifyingKeys = new WeakMap<Uint8Array, KeyObject | null>();

function signingKeyOf(signKey: Uint8Array): KeyObject {
  let key = signingKeys.get(signKey);
  if (key === undefined) {
    const der = signKey.length === 32 ? withPrefix(pkcs8Prefix, signKey) : Buffer.from(signKey);
    key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    signingKeys.set(signKey, key);
  }
  return key;
}

function verifyingKeyOf(publicKey: Uint8Array): KeyObject | null {
  let key = verifyingKeys.get(publicKey);
  if (key === undefined) {
    try {
      key =
        publicKey.length === 32
          ? createPublicKey({ key: withPrefix(spkiPrefix, publicKey), format: "der", type: "spki" })
          : null;
    } catch {
      key = null; // OpenSSL refuses the encoding: nothing can verify under it.
    }
    verifyingKeys.set(publicKey, key);
  }
  return key;
}

export const nodePrimitives: MlsPrimitives = {
  name: "node:crypto",
  hash: {
    digest: async (data) => new Uint8Array(createHash(hashName).update(data).digest()),
    mac: async (key, data) => hmac(key, data),
    verifyMac: async (key, mac, data) => {
      const expected = hmac(key, data);
      return expected.length === mac.length && timingSafeEqual(expected, mac);
    },
  },
  kdf: {
    extract: async (salt, ikm) => hmac(salt, ikm),
    expand: async (prk, info, length) => hkdfExpand(prk, info, length),
    size: hashBytes,
  },
  aead: {
    encrypt: async (key, nonce, aad, plaintext) => aesGcmEncrypt(key, nonce, aad, plaintext),
    decrypt: async (key, nonce, aad, sealed) => aesGcmDecrypt(key, nonce, aad, sealed),
  },
  ed25519: {
    sign: async (signKey, message) => new Uint8Array(sign(null, message, signingKeyOf(signKey))),
    verify: async (publicKey, message, signature) => {
      const key = verifyingKeyOf(publicKey);
      if (key === null || signature.length !== 64) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  },
};
