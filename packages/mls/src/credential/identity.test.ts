import { encodeCanonical, nobleSignatureProvider, publicKeyOfDevice } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { deviceIdentity } from "../../test/devices.ts";
import { createCredential, credentialOf, decodeIdentity, verifyCredential } from "./identity.ts";

const provider = nobleSignatureProvider;
const alice = deviceIdentity("alice@example.org");
const mallory = deviceIdentity("mallory@example.org");
const leafKey = new Uint8Array(32).fill(1);

describe("Parley credentials", () => {
  test("name the device and user, and their proof binds the leaf key", () => {
    const credential = createCredential(provider, alice, leafKey);
    expect(credentialOf(credential)).toEqual({
      user: "alice@example.org",
      device: expect.any(String),
    });
    expect(publicKeyOfDevice(credentialOf(credential)?.device ?? ("" as never))).toEqual(
      alice.keyPair.publicKey,
    );
    expect(verifyCredential(provider, credential, leafKey)).toBe(true);
  });

  test("do not verify for another leaf key", () => {
    const credential = createCredential(provider, alice, leafKey);
    expect(verifyCredential(provider, credential, new Uint8Array(32).fill(2))).toBe(false);
  });

  test("cannot claim a device whose key did not sign", () => {
    // Mallory signs with her key but names Alice's device.
    const forged = createCredential(provider, mallory, leafKey);
    const decoded = decodeIdentity(forged.identity);
    if (decoded === undefined) throw new Error("undecodable");
    const aliceDevice = credentialOf(createCredential(provider, alice, leafKey))?.device;
    const identity = encodeCanonical({
      device: aliceDevice ?? "",
      proof: decoded.proof,
      user: "mallory@example.org",
      version: 1,
    });
    expect(verifyCredential(provider, { credentialType: "basic", identity }, leafKey)).toBe(false);
  });

  test("cannot change the user the device named", () => {
    const credential = createCredential(provider, alice, leafKey);
    const decoded = decodeIdentity(credential.identity);
    if (decoded === undefined) throw new Error("undecodable");
    const identity = encodeCanonical({
      device: decoded.device,
      proof: decoded.proof,
      user: "bob@example.org",
      version: 1,
    });
    expect(verifyCredential(provider, { credentialType: "basic", identity }, leafKey)).toBe(false);
  });

  test("other shapes are not credentials, and decoding never throws", () => {
    expect(credentialOf({ credentialType: "x509", certificates: [] })).toBeUndefined();
    expect(
      decodeIdentity(
        encodeCanonical({ device: "x", proof: new Uint8Array(64), user: "a@b", version: 1 }),
      ),
    ).toBeUndefined();
    expect(decodeIdentity(encodeCanonical({ version: 2 }))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeIdentity(bytes)).toBeUndefined();
      }),
    );
  });

  test("round trip for any user and device", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (localPart, seed) => {
          const identity = deviceIdentity(
            `${localPart}@example.org`,
            Buffer.from(seed).toString("hex"),
          );
          const credential = createCredential(provider, identity, leafKey);
          expect(credentialOf(credential)?.user).toBe(`${localPart}@example.org`);
          expect(verifyCredential(provider, credential, leafKey)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});
