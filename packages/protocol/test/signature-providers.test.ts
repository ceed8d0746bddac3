import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeHex } from "../src/codec/bytes.ts";
import {
  signatureContexts,
  signedMessage,
  signInContext,
  verifyInContext,
} from "../src/crypto/contexts.ts";
import { nobleSignatureProvider } from "../src/crypto/noble-provider.ts";
import { nodeSignatureProvider } from "../src/crypto/node-provider.ts";
import { isAcceptablePublicKey } from "../src/crypto/public-key.ts";
import { keyPairFromSeed } from "../src/crypto/signature-provider.ts";
import {
  describeSignatureProviderCompliance,
  withNonCanonicalS,
  withSmallOrderComponentInR,
} from "./signature-provider-compliance.ts";

describeSignatureProviderCompliance(nobleSignatureProvider);
describeSignatureProviderCompliance(nodeSignatureProvider);

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 200 });

describe("the two providers agree", () => {
  test("on public keys and on (deterministic) signatures", () => {
    fc.assert(
      fc.property(seed, message, (secretSeed, bytes) => {
        const viaNoble = keyPairFromSeed(nobleSignatureProvider, secretSeed);
        const viaNode = keyPairFromSeed(nodeSignatureProvider, secretSeed);
        expect(viaNode.publicKey).toEqual(viaNoble.publicKey);
        expect(nodeSignatureProvider.sign(viaNode, bytes)).toEqual(
          nobleSignatureProvider.sign(viaNoble, bytes),
        );
      }),
      { numRuns: 200 },
    );
  });

  test("on every verdict, for valid, damaged and malleated signatures", () => {
    fc.assert(
      fc.property(seed, message, fc.nat(511), fc.boolean(), (secretSeed, bytes, bit, malleate) => {
        const keyPair = keyPairFromSeed(nodeSignatureProvider, secretSeed);
        const signature = nodeSignatureProvider.sign(keyPair, bytes);
        const damaged = malleate ? withNonCanonicalS(signature) : Uint8Array.from(signature);
        damaged[bit >> 3] = (damaged[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        for (const candidate of [signature, damaged]) {
          const node = nodeSignatureProvider.verify(keyPair.publicKey, bytes, candidate);
          const noble = nobleSignatureProvider.verify(keyPair.publicKey, bytes, candidate);
          expect(node).toBe(noble);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("on random 32-byte keys and 64-byte signatures", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (publicKey, signature) => {
          const bytes = new Uint8Array([7]);
          const node = nodeSignatureProvider.verify(publicKey, bytes, signature);
          expect(nobleSignatureProvider.verify(publicKey, bytes, signature)).toBe(node);
        },
      ),
      { numRuns: 300 },
    );
  });
});

test("why the noble provider checks the cofactorless equation itself", () => {
  // noble's own verify uses the cofactored equation and accepts this crafted
  // signature, OpenSSL refuses it: without the extra check, browsers and
  // servers would disagree about a record signed this way.
  const seed = new Uint8Array(32).fill(9);
  const publicKey = ed25519.getPublicKey(seed);
  const message = new TextEncoder().encode("crafted");
  const crafted = withSmallOrderComponentInR(seed, message);
  expect(ed25519.verify(crafted, message, publicKey, { zip215: false })).toBe(true);
  expect(nodeSignatureProvider.verify(publicKey, message, crafted)).toBe(false);
  expect(nobleSignatureProvider.verify(publicKey, message, crafted)).toBe(false);
});

describe("acceptable public keys", () => {
  test("every small-order point is refused, under either sign bit", () => {
    for (const hex of ED25519_TORSION_SUBGROUP) {
      const point = decodeHex(hex);
      expect(isAcceptablePublicKey(point), hex).toBe(false);
      point[31] = (point[31] ?? 0) ^ 0x80;
      expect(isAcceptablePublicKey(point), `${hex} with the sign bit flipped`).toBe(false);
    }
  });

  test("a y at or above p is refused as non-canonical", () => {
    const p = decodeHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    expect(isAcceptablePublicKey(p)).toBe(false);
    const pPlusTwo = Uint8Array.from(p);
    pPlusTwo[0] = 0xef;
    expect(isAcceptablePublicKey(pPlusTwo)).toBe(false);
    const pMinusTwo = Uint8Array.from(p);
    pMinusTwo[0] = 0xeb;
    expect(isAcceptablePublicKey(pMinusTwo)).toBe(true);
  });

  test("agrees with noble's own small-order check on real keys and on torsion points", () => {
    fc.assert(
      fc.property(seed, fc.nat(7), (secretSeed, torsionIndex) => {
        const publicKey = ed25519.getPublicKey(secretSeed);
        expect(isAcceptablePublicKey(publicKey)).toBe(true);
        const torsion = ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[torsionIndex] ?? "");
        expect(torsion.isSmallOrder()).toBe(true);
        expect(isAcceptablePublicKey(torsion.toBytes())).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe("domain separation", () => {
  const keyPair = keyPairFromSeed(nobleSignatureProvider, new Uint8Array(32).fill(1));
  const body = new Uint8Array([0xa0]);

  test("the signed bytes are the context, a zero byte, then the canonical bytes", () => {
    const context = new TextEncoder().encode("parley/v1/device-record");
    expect(signedMessage(signatureContexts.deviceRecord, body)).toEqual(
      new Uint8Array([...context, 0x00, 0xa0]),
    );
  });

  test("a signature for one context never verifies in another", () => {
    const signature = signInContext(
      nobleSignatureProvider,
      keyPair,
      signatureContexts.deviceRecord,
      body,
    );
    for (const context of Object.values(signatureContexts)) {
      const verdict = verifyInContext(
        nodeSignatureProvider,
        keyPair.publicKey,
        context,
        body,
        signature,
      );
      expect(verdict).toBe(context === signatureContexts.deviceRecord);
    }
  });

  test("wrong sizes and weak keys give false instead of an exception", () => {
    const signature = signInContext(
      nobleSignatureProvider,
      keyPair,
      signatureContexts.deviceRecord,
      body,
    );
    const context = signatureContexts.deviceRecord;
    expect(
      verifyInContext(
        nodeSignatureProvider,
        keyPair.publicKey.subarray(1),
        context,
        body,
        signature,
      ),
    ).toBe(false);
    expect(
      verifyInContext(
        nodeSignatureProvider,
        keyPair.publicKey,
        context,
        body,
        signature.subarray(1),
      ),
    ).toBe(false);
    const identity = decodeHex(ED25519_TORSION_SUBGROUP[0] ?? "");
    const trivial = new Uint8Array(64);
    trivial[0] = 1;
    expect(verifyInContext(nodeSignatureProvider, identity, context, body, trivial)).toBe(false);
    expect(verifyInContext(nobleSignatureProvider, identity, context, body, trivial)).toBe(false);
  });
});
