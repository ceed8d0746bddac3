import fc from "fast-check";
import {
  type CiphersuiteImpl,
  defaultCryptoProvider,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";
import { beforeAll, describe, expect, test } from "vitest";
import { parleyCipherSuiteName } from "./mls-crypto.ts";
import { nodePrimitives } from "./node-primitives.ts";

// The fast primitives must compute exactly what ts-mls's own provider does.
let library: CiphersuiteImpl;
beforeAll(async () => {
  library = await getCiphersuiteImpl(
    getCiphersuiteFromName(parleyCipherSuiteName),
    defaultCryptoProvider,
  );
});

const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const nonce12 = fc.uint8Array({ minLength: 12, maxLength: 12 });
const runs = { numRuns: 60 };

describe("node:crypto primitives agree with ts-mls's provider", () => {
  test("SHA-256 and HMAC", async () => {
    await fc.assert(
      // WebCrypto refuses an empty HMAC key; MLS never uses one.
      fc.asyncProperty(
        bytes(300),
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        async (data, key) => {
          expect(await nodePrimitives.hash.digest(data)).toEqual(await library.hash.digest(data));
          const mac = await library.hash.mac(key, data);
          expect(await nodePrimitives.hash.mac(key, data)).toEqual(mac);
          expect(await nodePrimitives.hash.verifyMac(key, mac, data)).toBe(true);
          const forged = Uint8Array.from(mac);
          forged[0] = (forged[0] ?? 0) ^ 1;
          expect(await nodePrimitives.hash.verifyMac(key, forged, data)).toBe(false);
          expect(await nodePrimitives.hash.verifyMac(key, mac.subarray(1), data)).toBe(false);
        },
      ),
      runs,
    );
  });

  test("HKDF extract and expand, every output length up to three blocks", async () => {
    await fc.assert(
      // @hpke/core insists on a salt of the hash's size, which is all MLS passes.
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        bytes(64),
        bytes(100),
        fc.integer({ min: 0, max: 96 }),
        async (salt, ikm, info, length) => {
          const prk = await library.kdf.extract(salt, ikm);
          expect(await nodePrimitives.kdf.extract(salt, ikm)).toEqual(prk);
          expect(await nodePrimitives.kdf.expand(prk, info, length)).toEqual(
            await library.kdf.expand(prk, info, length),
          );
        },
      ),
      runs,
    );
    expect(nodePrimitives.kdf.size).toBe(library.kdf.size);
  });

  test("AES-128-GCM seals to the same bytes and refuses any change", async () => {
    await fc.assert(
      fc.asyncProperty(key16, nonce12, bytes(40), bytes(300), async (key, nonce, aad, text) => {
        const sealed = await library.hpke.encryptAead(key, nonce, aad, text);
        expect(await nodePrimitives.aead.encrypt(key, nonce, aad, text)).toEqual(sealed);
        expect(await nodePrimitives.aead.decrypt(key, nonce, aad, sealed)).toEqual(text);
        const tampered = Uint8Array.from(sealed);
        const at = text.length % tampered.length;
        tampered[at] = (tampered[at] ?? 0) ^ 0x40;
        await expect(nodePrimitives.aead.decrypt(key, nonce, aad, tampered)).rejects.toThrow(
          /invalid tag/,
        );
      }),
      runs,
    );
    const key = new Uint8Array(16);
    const nonce = new Uint8Array(12);
    const sealed = await library.hpke.encryptAead(key, nonce, undefined, new Uint8Array([1]));
    expect(await nodePrimitives.aead.decrypt(key, nonce, undefined, sealed)).toEqual(
      new Uint8Array([1]),
    );
    await expect(
      nodePrimitives.aead.decrypt(key, nonce, undefined, sealed.subarray(0, 8)),
    ).rejects.toThrow(/invalid tag/);
  });

  test("Ed25519 signs as the library does and verifies only what it should", async () => {
    const pairs = [await library.signature.keygen(), await library.signature.keygen()];
    await fc.assert(
      fc.asyncProperty(bytes(200), fc.nat(1), async (message, which) => {
        const pair = pairs[which];
        if (pair === undefined) throw new Error("no key pair");
        const signature = await library.signature.sign(pair.signKey, message);
        expect(await nodePrimitives.ed25519.sign(pair.signKey, message)).toEqual(signature);
        expect(await nodePrimitives.ed25519.verify(pair.publicKey, message, signature)).toBe(true);
        const other = pairs[1 - which];
        if (other === undefined) throw new Error("no key pair");
        expect(await nodePrimitives.ed25519.verify(other.publicKey, message, signature)).toBe(
          false,
        );
      }),
      runs,
    );
    const pair = pairs[0];
    if (pair === undefined) throw new Error("no key pair");
    expect(
      await nodePrimitives.ed25519.verify(new Uint8Array(5), new Uint8Array(), new Uint8Array(64)),
    ).toBe(false);
    expect(
      await nodePrimitives.ed25519.verify(pair.publicKey, new Uint8Array(), new Uint8Array(3)),
    ).toBe(false);
  });
});
