import { nobleSignatureProvider } from "@parley/protocol";
import { defaultCryptoProvider, getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
import { describe, expect, test } from "vitest";
import { parleyCipherSuiteName } from "./mls-crypto.ts";
import { reuseImportedKeys } from "./signature-keys.ts";

async function librarySignature() {
  const suite = getCiphersuiteFromName(parleyCipherSuiteName);
  return (await getCiphersuiteImpl(suite, defaultCryptoProvider)).signature;
}

describe("reusing imported signature keys", () => {
  test("signs and verifies exactly as ts-mls's own adapter does", async () => {
    const library = await librarySignature();
    const reused = reuseImportedKeys(library);
    const { signKey, publicKey } = await library.keygen();
    const message = new TextEncoder().encode("one message");
    const byLibrary = await library.sign(signKey, message);
    // Ed25519 is deterministic: the same key and message give the same signature.
    expect(await reused.sign(signKey, message)).toEqual(byLibrary);
    expect(await reused.sign(signKey, message)).toEqual(byLibrary);
    expect(await reused.verify(publicKey, message, byLibrary)).toBe(true);
    expect(await library.verify(publicKey, message, await reused.sign(signKey, message))).toBe(
      true,
    );
    const other = new TextEncoder().encode("another message");
    expect(await reused.verify(publicKey, other, byLibrary)).toBe(false);
  });

  test("takes 32-byte seeds as well as PKCS#8, like ts-mls", async () => {
    const reused = reuseImportedKeys(await librarySignature());
    const keyPair = nobleSignatureProvider.generateKeyPair();
    const message = new Uint8Array([1, 2, 3]);
    const signature = await reused.sign(keyPair.secretSeed, message);
    expect(signature).toEqual(nobleSignatureProvider.sign(keyPair, message));
  });

  test("a malformed key or signature from a peer is a failed verification, not a throw", async () => {
    const reused = reuseImportedKeys(await librarySignature());
    const message = new Uint8Array([1]);
    expect(await reused.verify(new Uint8Array(5), message, new Uint8Array(64))).toBe(false);
    const { publicKey } = await (await librarySignature()).keygen();
    expect(await reused.verify(publicKey, message, new Uint8Array(10))).toBe(false);
  });
});
