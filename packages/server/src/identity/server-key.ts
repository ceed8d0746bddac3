// The homeserver's long-term Ed25519 identity. Generated on first start,
// stored (seed and public key) so a restart keeps the same identity, and loaded
// on every later start. Signing sits behind `ServerSigner` so the protocol
// package's signature provider can replace node:crypto here without touching
// callers.

import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { ServerSigningKey } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";

const ed25519SeedBytes = 32;

export interface ServerSigner {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Makes a fresh key pair; the only source of randomness for the identity. */
export type KeyGenerator = () => { publicKey: Uint8Array; secretSeed: Uint8Array };

export const generateEd25519Key: KeyGenerator = () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const privateJwk = privateKey.export({ format: "jwk" });
  const publicJwk = publicKey.export({ format: "jwk" });
  if (privateJwk.d === undefined || publicJwk.x === undefined) {
    throw new Error("node:crypto returned an Ed25519 key without its raw parts");
  }
  return {
    publicKey: new Uint8Array(Buffer.from(publicJwk.x, "base64url")),
    secretSeed: new Uint8Array(Buffer.from(privateJwk.d, "base64url")),
  };
};

/** A short, stable name for a key: the algorithm and the start of its public key. */
export function keyIdFor(publicKey: Uint8Array): string {
  return `ed25519:${Buffer.from(publicKey.subarray(0, 6)).toString("base64url")}`;
}

/**
 * The server's current key, creating and storing one if there is none.
 * Several processes starting together on one database may each insert a key;
 * all of them then read back the same `current` key (newest, ties by key id),
 * so they agree on one identity.
 */
export async function loadOrCreateServerKey(
  storage: Storage,
  nowMs: number,
  generate: KeyGenerator = generateEd25519Key,
): Promise<ServerSigningKey> {
  const existing = await storage.serverKeys.current(nowMs);
  if (existing !== null) {
    return existing;
  }
  await storeNewKey(storage, nowMs, generate);
  const current = await storage.serverKeys.current(nowMs);
  if (current === null) {
    throw new Error("a server key was stored but cannot be read back");
  }
  return current;
}

/** Generates a key valid from `nowMs` on and stores it; answers its key id. */
async function storeNewKey(
  storage: Storage,
  nowMs: number,
  generate: KeyGenerator,
): Promise<string> {
  const { publicKey, secretSeed } = generate();
  const keyId = keyIdFor(publicKey);
  await storage.serverKeys.insert({
    keyId,
    publicKey,
    secretSeed,
    validFromMs: nowMs,
    validUntilMs: null,
  });
  return keyId;
}

/**
 * Rotates the server's key (docs/protocol.md §6.4): a new key valid from
 * `nowMs` becomes the current one, and the outgoing key's window ends
 * `overlapMs` later — long enough for it to co-sign the new key document
 * and for what it signed before to keep verifying. Run with the server
 * stopped; it starts with the new key and publishes the next serial.
 */
export async function rotateServerKey(
  storage: Storage,
  nowMs: number,
  overlapMs: number,
  generate: KeyGenerator = generateEd25519Key,
): Promise<{ readonly current: ServerSigningKey; readonly retired: ServerSigningKey | null }> {
  const outgoing = await storage.serverKeys.current(nowMs);
  const keyId = await storeNewKey(storage, nowMs, generate);
  if (outgoing !== null) await storage.serverKeys.retire(outgoing.keyId, nowMs + overlapMs);
  const current = await storage.serverKeys.current(nowMs);
  if (current === null || current.keyId !== keyId) {
    throw new Error("the new server key was stored but is not the current one");
  }
  return {
    current,
    retired: outgoing === null ? null : { ...outgoing, validUntilMs: nowMs + overlapMs },
  };
}

function privateKeyFromSeed(key: ServerSigningKey): KeyObject {
  if (key.secretSeed.byteLength !== ed25519SeedBytes) {
    throw new Error(`an Ed25519 seed is ${ed25519SeedBytes} bytes`);
  }
  return createPrivateKey({
    format: "jwk",
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: Buffer.from(key.secretSeed).toString("base64url"),
      x: Buffer.from(key.publicKey).toString("base64url"),
    },
  });
}

/** Signs with node:crypto; to be swapped for the protocol package's provider. */
export function createServerSigner(key: ServerSigningKey): ServerSigner {
  const privateKey = privateKeyFromSeed(key);
  return {
    keyId: key.keyId,
    publicKey: key.publicKey,
    sign(message) {
      return new Uint8Array(sign(null, message, privateKey));
    },
  };
}
