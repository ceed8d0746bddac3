import { describe, expect, test } from "vitest";
import { errorCodeOf } from "../../test/error-code-of.ts";
import { dayMs, keyPairOf, makeServer, minuteMs, startMs } from "../../test/fixtures.ts";
import { decodeCanonical } from "../codec/decode.ts";
import { encodeCanonical } from "../codec/encode.ts";
import type { CborMap } from "../codec/value.ts";
import { nodeSignatureProvider as provider } from "../crypto/node-provider.ts";
import type { KeyPair } from "../crypto/signature-provider.ts";
import { parseServerName } from "../identifiers/server-name.ts";
import {
  createServerKeyDocument,
  type ServerKeyDocumentInput,
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "./document.ts";
import { checkFederationEndpoint } from "./federation-endpoint.ts";
import { serverKeysValidAt, serverKeyValidAt } from "./lookup.ts";

const name = parseServerName("keys.example");
const key1 = keyPairOf(provider, "keys.example key 1");
const key2 = keyPairOf(provider, "keys.example key 2");
const key3 = keyPairOf(provider, "keys.example key 3");
const rotation1Ms = startMs + 100 * dayMs;
const rotation2Ms = startMs + 200 * dayMs;

function input(overrides: Partial<ServerKeyDocumentInput>): ServerKeyDocumentInput {
  return {
    server: name,
    serial: 1,
    issuedAtMs: startMs,
    federationEndpoint: "https://keys.example/_parley/federation/v1",
    keys: [{ publicKey: key1.publicKey, validFromMs: startMs, validUntilMs: null }],
    ...overrides,
  };
}

function verify(bytes: Uint8Array, nowMs: number, trusted?: VerifiedServerKeyDocument) {
  const base = { provider, nowMs, expectedServer: name };
  return verifyServerKeyDocument(bytes, trusted === undefined ? base : { ...base, trusted });
}

const first = createServerKeyDocument(provider, input({}), [key1]);
const firstVerified = verify(first, startMs);

/** Serial 2: key 1 retires at rotation 1, key 2 takes over; signed by both. */
function rotated(signers: readonly KeyPair[] = [key1, key2]): Uint8Array {
  return createServerKeyDocument(
    provider,
    input({
      serial: 2,
      issuedAtMs: rotation1Ms,
      keys: [
        { publicKey: key1.publicKey, validFromMs: startMs, validUntilMs: rotation1Ms },
        { publicKey: key2.publicKey, validFromMs: rotation1Ms, validUntilMs: null },
      ],
    }),
    signers,
  );
}

describe("server key documents", () => {
  test("a first document verifies on its own (first contact)", () => {
    expect(firstVerified.server).toBe(name);
    expect(firstVerified.serial).toBe(1);
    expect(firstVerified.keys).toHaveLength(1);
    expect(firstVerified.documentId).toMatch(/^server-key-document:/);
  });

  test("a rotation signed by the outgoing and the incoming key continues the trust", () => {
    const second = verify(rotated(), rotation1Ms + minuteMs, firstVerified);
    expect(second.serial).toBe(2);
    expect(serverKeysValidAt(second, rotation1Ms - 1).map((key) => key.publicKey)).toEqual([
      key1.publicKey,
    ]);
    expect(serverKeysValidAt(second, rotation1Ms).map((key) => key.publicKey)).toEqual([
      key2.publicKey,
    ]);
  });

  test("a rotation signed only by the new key breaks continuity", () => {
    expect(errorCodeOf(() => verify(rotated([key2]), rotation1Ms, firstVerified))).toBe(
      "key_continuity_broken",
    );
    // Without a trusted document (first contact over https) the same bytes are acceptable.
    expect(verify(rotated([key2]), rotation1Ms).serial).toBe(2);
  });

  test("a verifier two rotations behind cannot skip ahead; one rotation behind can", () => {
    const second = verify(rotated(), rotation1Ms, firstVerified);
    const third = createServerKeyDocument(
      provider,
      input({
        serial: 3,
        issuedAtMs: rotation2Ms,
        keys: [
          { publicKey: key2.publicKey, validFromMs: rotation1Ms, validUntilMs: rotation2Ms },
          { publicKey: key3.publicKey, validFromMs: rotation2Ms, validUntilMs: null },
        ],
      }),
      [key2, key3],
    );
    expect(verify(third, rotation2Ms, second).serial).toBe(3);
    expect(errorCodeOf(() => verify(third, rotation2Ms, firstVerified))).toBe(
      "key_continuity_broken",
    );
  });

  test("an older serial, or another document with the same serial, is a replay; the same bytes are not", () => {
    const second = verify(rotated(), rotation1Ms, firstVerified);
    expect(errorCodeOf(() => verify(first, rotation1Ms, second))).toBe("record_replayed");
    expect(verify(rotated(), rotation1Ms, second)).toBe(second);
    const sameSerial = createServerKeyDocument(
      provider,
      input({ serial: 2, issuedAtMs: rotation1Ms }),
      [key1],
    );
    expect(errorCodeOf(() => verify(sameSerial, rotation1Ms, second))).toBe("record_replayed");
  });

  test("a withdrawn key can neither sign a new document nor vouch for old signatures", () => {
    const withdrawn = createServerKeyDocument(
      provider,
      input({
        serial: 2,
        issuedAtMs: rotation1Ms,
        keys: [{ publicKey: key2.publicKey, validFromMs: rotation1Ms, validUntilMs: null }],
      }),
      [key2],
    );
    const document = verify(withdrawn, rotation1Ms);
    expect(errorCodeOf(() => serverKeyValidAt(document, key1.publicKey, startMs))).toBe(
      "server_key_unknown",
    );
    expect(errorCodeOf(() => serverKeyValidAt(document, key2.publicKey, startMs))).toBe(
      "server_key_not_valid",
    );
    expect(serverKeyValidAt(document, key2.publicKey, rotation1Ms).publicKey).toEqual(
      key2.publicKey,
    );
  });

  test("is refused when issued in the future, or for another server", () => {
    const future = createServerKeyDocument(
      provider,
      input({ issuedAtMs: startMs + 6 * minuteMs }),
      [key1],
    );
    expect(errorCodeOf(() => verify(future, startMs))).toBe("timestamp_in_future");
    expect(verify(future, startMs + minuteMs).serial).toBe(1);
    const elsewhere = makeServer(provider, "elsewhere.example");
    expect(errorCodeOf(() => verify(elsewhere.documentBytes, startMs))).toBe("server_mismatch");
  });

  test("refuses signatures by unlisted keys, bad signatures, and signers not valid at issue time", () => {
    const wire = decodeCanonical(first) as {
      body: CborMap;
      signatures: { publicKey: Uint8Array; signature: Uint8Array }[];
    };
    const [signature] = wire.signatures;
    if (signature === undefined) throw new Error("one signature");
    const unlisted = encodeCanonical({
      ...wire,
      signatures: [{ ...signature, publicKey: key3.publicKey }],
    });
    expect(errorCodeOf(() => verify(unlisted, startMs))).toBe("server_key_unknown");
    const broken = Uint8Array.from(signature.signature);
    broken[0] = (broken[0] ?? 0) ^ 1;
    const badSignature = encodeCanonical({
      ...wire,
      signatures: [{ ...signature, signature: broken }],
    });
    expect(errorCodeOf(() => verify(badSignature, startMs))).toBe("signature_invalid");

    const expiredSigner = input({
      issuedAtMs: rotation1Ms,
      keys: [{ publicKey: key1.publicKey, validFromMs: startMs, validUntilMs: rotation1Ms }],
    });
    expect(errorCodeOf(() => createServerKeyDocument(provider, expiredSigner, [key1]))).toBe(
      "invalid_argument",
    );
  });

  test("refuses unsorted or duplicated keys, and keys whose window ends before it starts", () => {
    const wire = decodeCanonical(rotated()) as { body: { keys: CborMap[] } & CborMap } & CborMap;
    const reversed = encodeCanonical({
      ...wire,
      body: { ...wire.body, keys: [...wire.body.keys].reverse() },
    });
    expect(errorCodeOf(() => verify(reversed, rotation1Ms))).toBe("bad_structure");
    const [firstKey] = wire.body.keys;
    if (firstKey === undefined) throw new Error("two keys");
    const duplicated = encodeCanonical({
      ...wire,
      body: { ...wire.body, keys: [firstKey, firstKey] },
    });
    expect(errorCodeOf(() => verify(duplicated, rotation1Ms))).toBe("bad_structure");
    const backwards = input({
      keys: [{ publicKey: key1.publicKey, validFromMs: startMs, validUntilMs: startMs }],
    });
    expect(errorCodeOf(() => createServerKeyDocument(provider, backwards, [key1]))).toBe(
      "invalid_argument",
    );
  });

  test("a signer must be one of the listed keys", () => {
    expect(errorCodeOf(() => createServerKeyDocument(provider, input({}), [key2]))).toBe(
      "invalid_argument",
    );
  });
});

describe("federation endpoints", () => {
  const local = parseServerName("localhost:7001");
  test.each([
    [name, "https://keys.example/_parley/federation/v1"],
    [name, "https://federation.other.example:8448/"],
    [local, "http://localhost:7001/federation"],
    [parseServerName("[::1]:7001"), "http://[::1]:7001/"],
  ])("%s may publish %s", (server, endpoint) => {
    expect(() => checkFederationEndpoint(server, endpoint)).not.toThrow();
  });

  test.each([
    [name, "http://keys.example/", "plain http for a public name"],
    [name, "https://keys.example", "not canonical (no path)"],
    [name, "HTTPS://keys.example/", "not canonical (upper-case scheme)"],
    [name, "https://user:pw@keys.example/", "user info"],
    [name, "https://keys.example/?a=1", "query"],
    [name, "https://keys.example/#top", "fragment"],
    [name, "ftp://keys.example/", "another scheme"],
    [name, "keys.example", "not a URL"],
    [name, `https://keys.example/${"a".repeat(600)}`, "too long"],
  ])("%s may not publish %s (%s)", (server, endpoint) => {
    expect(() => checkFederationEndpoint(server, endpoint)).toThrow(
      expect.objectContaining({ code: "bad_federation_endpoint" }),
    );
  });
});
