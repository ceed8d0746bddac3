import {
  type KeyPair,
  keyPairFromSeed,
  nobleSignatureProvider,
  parseRoomId,
  parseUserId,
  type RoomId,
  sha256,
} from "@parley/protocol";
import type { DeviceIdentity } from "../src/credential/identity.ts";
import {
  createMlsCrypto,
  type MlsCrypto,
  type MlsCryptoProviderName,
} from "../src/crypto/mls-crypto.ts";
import { nodePrimitives } from "../src/crypto/node-primitives.ts";

/** Deterministic device identities for tests: the same label gives the same key. */
export function deviceIdentity(user: string, label = "phone"): DeviceIdentity {
  return { user: parseUserId(user), keyPair: deviceKeyPair(`${user}/${label}`) };
}

export function deviceKeyPair(label: string): KeyPair {
  return keyPairFromSeed(
    nobleSignatureProvider,
    sha256(new TextEncoder().encode(`mls test: ${label}`)),
  );
}

export const testRoom: RoomId = parseRoomId("!a8Lr3kQ0TmWb9cZyXv1uJg");
export const otherRoom: RoomId = parseRoomId("!b8Lr3kQ0TmWb9cZyXv1uJg");

/**
 * ts-mls compares KeyPackage lifetimes with the real clock when a commit is
 * created, so tests use it too (rounded to a second) rather than a fixed date
 * that would expire.
 */
export function testNowMs(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

/** A ts-mls provider, or "node": the default provider with Parley's node:crypto primitives. */
export type TestCryptoName = MlsCryptoProviderName | "node";

const cryptoByProvider = new Map<TestCryptoName, Promise<MlsCrypto>>();

export function testCrypto(provider: TestCryptoName = "webcrypto"): Promise<MlsCrypto> {
  let crypto = cryptoByProvider.get(provider);
  if (crypto === undefined) {
    crypto =
      provider === "node"
        ? createMlsCrypto({ signatureProvider: nobleSignatureProvider, primitives: nodePrimitives })
        : createMlsCrypto({ signatureProvider: nobleSignatureProvider, provider });
    cryptoByProvider.set(provider, crypto);
  }
  return crypto;
}

export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

export function readText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
