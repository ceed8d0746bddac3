import { createPublicKey, verify } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/storage.ts";
import {
  createServerSigner,
  generateEd25519Key,
  keyIdFor,
  loadOrCreateServerKey,
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
});
