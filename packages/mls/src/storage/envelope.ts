import {
  type CborValue,
  type DecodeLimits,
  decodeCanonical,
  encodeCanonical,
  ParleyError,
} from "@parley/protocol";
import { isCborMap } from "../cbor-map.ts";
import type { MlsCrypto } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { mlsLimits } from "../limits.ts";

/**
 * Sealed state: MLS secrets at rest, encrypted with a key the user holds.
 *
 *     canonical CBOR {
 *       "ciphertext": bytes,           AES-128-GCM output (ciphertext || 16-byte tag)
 *       "format": "parley-mls-sealed",
 *       "kind": "member" | "key-packages" | "plaintexts",
 *       "nonce": bytes(12),
 *       "salt": bytes(32),
 *       "scope": text,                 the room id (member) or device id (key-packages)
 *       "sequence": uint,              MlsMember.sequence when sealed (0 for key packages)
 *       "version": 1
 *     }
 *
 *     aead key = HKDF-Expand(HKDF-Extract(salt, user key), "parley/v1/mls-sealed-state", 16)
 *     aad      = canonical CBOR of the map above without "ciphertext"
 *
 * HKDF-SHA256 and AES-128-GCM are the cipher suite's own (ts-mls's crypto
 * provider), so sealing adds no primitive and no dependency. A fresh random
 * salt per seal gives every blob its own AEAD key, so the random nonce can
 * never repeat under one key. The header is authenticated: a blob cannot be
 * moved to another room, relabelled or rolled back to a lower sequence
 * without the AEAD failing, provided the caller checks the sequence it gets
 * against the last one it sealed.
 */
export type SealedKind = "member" | "key-packages" | "plaintexts";

const format = "parley-mls-sealed";
const version = 1;
const keyInfo = new TextEncoder().encode("parley/v1/mls-sealed-state");
const aeadKeyBytes = 16;
const nonceBytes = 12;
const saltBytes = 32;
export const sealingKeyBytes = 32;

export const sealedDecodeLimits: DecodeLimits = {
  totalBytesMax: mlsLimits.sealedStateBytesMax,
  depthMax: 4,
  containerItemsMax: 4096,
  stringBytesMax: mlsLimits.sealedStateBytesMax,
};

export interface SealedHeader {
  readonly kind: SealedKind;
  readonly scope: string;
  readonly sequence: number;
}

export async function seal(
  crypto: MlsCrypto,
  header: SealedHeader,
  plaintext: CborValue,
  key: Uint8Array,
): Promise<Uint8Array> {
  assertKey(key);
  const salt = crypto.randomBytes(saltBytes);
  const nonce = crypto.randomBytes(nonceBytes);
  const clear = {
    format,
    kind: header.kind,
    nonce,
    salt,
    scope: header.scope,
    sequence: header.sequence,
    version,
  };
  const aeadKey = await deriveKey(crypto, key, salt);
  const ciphertext = await crypto.cipherSuite.hpke.encryptAead(
    aeadKey,
    nonce,
    encodeCanonical(clear),
    encodeCanonical(plaintext),
  );
  return encodeCanonical({ ...clear, ciphertext });
}

export type Opened =
  | { readonly kind: "opened"; readonly plaintext: CborValue; readonly sequence: number }
  | MlsFailure;

/** Opens a sealed blob of `kind` for `scope`; every defect is `mls_sealed_state_invalid`. */
export async function open(
  crypto: MlsCrypto,
  expected: { readonly kind: SealedKind; readonly scope: string },
  sealed: Uint8Array,
  key: Uint8Array,
): Promise<Opened> {
  assertKey(key);
  const invalid = (detail: string, cause?: unknown) =>
    mlsFailure("mls_sealed_state_invalid", detail, cause);
  let envelope: CborValue;
  try {
    envelope = decodeCanonical(sealed, sealedDecodeLimits);
  } catch (cause) {
    return invalid("not a sealed state envelope", cause);
  }
  if (!isCborMap(envelope)) return invalid("not a sealed state envelope");
  const { ciphertext, ...clear } = envelope;
  const { format: foundFormat, kind, nonce, salt, scope, sequence, version: foundVersion } = clear;
  if (foundFormat !== format || foundVersion !== version) {
    return invalid("unknown format or version");
  }
  if (Object.keys(clear).length !== 7) return invalid("unexpected fields");
  if (kind !== expected.kind) return invalid(`not a ${expected.kind} blob`);
  if (scope !== expected.scope) return invalid("sealed for another scope");
  if (
    !(ciphertext instanceof Uint8Array) ||
    !(nonce instanceof Uint8Array) ||
    !(salt instanceof Uint8Array)
  ) {
    return invalid("missing bytes");
  }
  if (nonce.length !== nonceBytes || salt.length !== saltBytes) return invalid("bad nonce or salt");
  if (typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < 0) {
    return invalid("bad sequence");
  }
  let plaintextBytes: Uint8Array;
  try {
    const aeadKey = await deriveKey(crypto, key, salt);
    plaintextBytes = await crypto.cipherSuite.hpke.decryptAead(
      aeadKey,
      nonce,
      encodeCanonical(clear),
      ciphertext,
    );
  } catch (cause) {
    return invalid("does not decrypt: wrong key or tampered", cause);
  }
  try {
    return {
      kind: "opened",
      plaintext: decodeCanonical(plaintextBytes, sealedDecodeLimits),
      sequence,
    };
  } catch (cause) {
    return invalid("the plaintext is not canonical CBOR", cause);
  }
}

async function deriveKey(
  crypto: MlsCrypto,
  key: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array> {
  const { kdf } = crypto.cipherSuite;
  return kdf.expand(await kdf.extract(salt, key), keyInfo, aeadKeyBytes);
}

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== sealingKeyBytes) {
    throw new ParleyError("invalid_argument", `a sealing key is ${sealingKeyBytes} bytes`);
  }
}
