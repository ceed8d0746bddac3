import { createPublicKey, verify } from "node:crypto";
import { nobleSignatureProvider, verifyServerKeyDocument } from "@parley/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServerIdentity } from "../http/server-identity.ts";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/storage.ts";
import {
  createServerSigner,
  generateEd25519Key,
  keyIdFor,
  loadOrCreateServerKey,
  rotateServerKey,
} from "./server-key.ts";

let storage: Storage;

beforeEach(async () => {
  storage = await openStorage({ kind: "sqlite", path: ":memory:" });
  await storage.migrations.migrateToLatest();
});

afterEach(async () => {
  await storage.close();
});

describe("server signing key", () => {
  it("is generated on first start and the same one is loaded afterwards", async () => {
    let generated = 0;
    const generate = () => {
      generated += 1;
      return generateEd25519Key();
    };
    const first = await loadOrCreateServerKey(storage, 1000, generate);
    const second = await loadOrCreateServerKey(storage, 2000, generate);
    expect(generated).toBe(1);
    expect(second).toEqual(first);
    expect(first.secretSeed.byteLength).toBe(32);
    expect(first.publicKey.byteLength).toBe(32);
    expect(first.keyId).toBe(keyIdFor(first.publicKey));
  });

  it("signs so that the stored public key verifies", async () => {
    const key = await loadOrCreateServerKey(storage, 1000);
    const signer = createServerSigner(key);
    const message = new TextEncoder().encode("room, index, chain hash");
    const signature = signer.sign(message);
    expect(signature.byteLength).toBe(64);
    const publicKey = createPublicKey({
      format: "jwk",
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(key.publicKey).toString("base64url") },
    });
    expect(verify(null, message, publicKey, signature)).toBe(true);
    expect(verify(null, new TextEncoder().encode("other"), publicKey, signature)).toBe(false);
  });

  it("rotates to a new key that peers trusting the old document accept", async () => {
    const provider = nobleSignatureProvider;
    const first = await loadOrCreateServerKey(storage, 1_000);
    const identityOf = async () =>
      createServerIdentity(provider, {
        name: "home.test",
        currentKey: (await storage.serverKeys.current(5_000)) ?? first,
        allKeys: await storage.serverKeys.list(),
      });
    const before = await identityOf();
    expect(before.keyDocument.serial).toBe(1);

    const { current, retired } = await rotateServerKey(storage, 5_000, 1_000);
    expect(current.keyId).not.toBe(first.keyId);
    expect(retired?.validUntilMs).toBe(6_000);
    const after = await identityOf();
    expect(after.keyDocument.serial).toBe(2);
    expect(after.keyPair.publicKey).toEqual(current.publicKey);
    // A peer that trusted serial 1 accepts serial 2: the outgoing key co-signed it.
    const followed = verifyServerKeyDocument(after.keyDocument.bytes, {
      provider,
      nowMs: 5_500,
      expectedServer: before.name,
      trusted: before.keyDocument,
    });
    expect(followed.serial).toBe(2);
    expect(followed.keys.map((key) => key.validUntilMs).sort()).toEqual([6_000, null]);
    // A restart publishes the very same document.
    expect((await identityOf()).keyDocument.bytes).toEqual(after.keyDocument.bytes);
  });
});
