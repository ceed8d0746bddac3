import { describe, expect, test } from "vitest";
import { decodeHex, encodeHex } from "../../src/codec/bytes.ts";
import { decodeCanonical } from "../../src/codec/decode.ts";
import { encodeCanonical } from "../../src/codec/encode.ts";
import { fromJsonValue, type JsonValue } from "../../src/codec/vector-notation.ts";
import { type SignatureContext, verifyInContext } from "../../src/crypto/contexts.ts";
import { nobleSignatureProvider } from "../../src/crypto/noble-provider.ts";
import { nodeSignatureProvider } from "../../src/crypto/node-provider.ts";
import { contentIdOf, parseContentId } from "../../src/identifiers/content-id.ts";
import { deviceIdFromPublicKey, parseDeviceId } from "../../src/identifiers/device-id.ts";
import { parseRoomId, roomIdFromBytes } from "../../src/identifiers/room-id.ts";
import { parseServerName } from "../../src/identifiers/server-name.ts";
import { parseUserId } from "../../src/identifiers/user-id.ts";
import type { DecodeLimits } from "../../src/limits.ts";
import { errorCodeOf } from "../error-code-of.ts";
import { buildTestVectors, serializeVectors } from "./build-test-vectors.ts";
import {
  contextMessageHex,
  publicKeyOfSeed,
  readVectorFile,
  verifiesOnNodeCrypto,
} from "./independent-ed25519.ts";

const providers = [nobleSignatureProvider, nodeSignatureProvider];

describe("the committed test vectors", () => {
  test.each(Object.entries(buildTestVectors()))(
    "%s.json is what the generator writes",
    (name, content) => {
      expect(
        readVectorFile(name),
        "run: npx tsx packages/protocol/scripts/generate-test-vectors.ts",
      ).toBe(serializeVectors(content));
    },
  );
});

describe("canonical CBOR vectors", () => {
  const file = JSON.parse(readVectorFile("canonical-cbor")) as {
    defaultLimits: DecodeLimits;
    valid: { name: string; value: JsonValue; hex: string }[];
    invalid: { name: string; hex: string; limits?: DecodeLimits; error: string }[];
  };

  test.each(file.valid.map((vector) => [vector.name, vector] as const))("%s", (_, vector) => {
    const value = fromJsonValue(vector.value);
    expect(encodeHex(encodeCanonical(value))).toBe(vector.hex);
    expect(decodeCanonical(decodeHex(vector.hex), file.defaultLimits)).toEqual(value);
  });

  test.each(file.invalid.map((vector) => [vector.name, vector] as const))(
    "refuses %s",
    (_, vector) => {
      const limits = vector.limits ?? file.defaultLimits;
      expect(errorCodeOf(() => decodeCanonical(decodeHex(vector.hex), limits))).toBe(vector.error);
    },
  );
});

describe("signature vectors", () => {
  const file = JSON.parse(readVectorFile("signatures")) as {
    vectors: {
      name: string;
      seed: string;
      publicKey: string;
      context: SignatureContext;
      canonicalHex: string;
      signedMessageHex: string;
      signature: string;
      valid: boolean;
    }[];
  };

  test.each(file.vectors.map((vector) => [vector.name, vector] as const))("%s", (_, vector) => {
    expect(vector.signedMessageHex).toBe(contextMessageHex(vector.context, vector.canonicalHex));
    if (vector.valid) {
      expect(publicKeyOfSeed(vector.seed)).toBe(vector.publicKey);
      expect(
        verifiesOnNodeCrypto(vector.publicKey, vector.signedMessageHex, vector.signature),
      ).toBe(true);
    }
    for (const provider of providers) {
      const verdict = verifyInContext(
        provider,
        decodeHex(vector.publicKey),
        vector.context,
        decodeHex(vector.canonicalHex),
        decodeHex(vector.signature),
      );
      expect(verdict, provider.name).toBe(vector.valid);
    }
  });
});

describe("identifier vectors", () => {
  const file = JSON.parse(readVectorFile("identifiers")) as {
    serverNames: { valid: string[]; refused: { text: string; error: string }[] };
    userIds: { valid: string[]; refused: { text: string; error: string }[] };
    deviceIds: {
      valid: { publicKey: string; deviceId: string }[];
      refused: { text: string; error: string }[];
    };
    roomIds: {
      valid: { bytes: string; roomId: string }[];
      refused: { text: string; error: string }[];
    };
    contentIds: {
      valid: { type: string; contentHex: string; contentId: string }[];
      refused: { text: string; error: string }[];
    };
  };

  test("server names and user ids", () => {
    for (const text of file.serverNames.valid) expect(parseServerName(text)).toBe(text);
    for (const { text, error } of file.serverNames.refused)
      expect(
        errorCodeOf(() => parseServerName(text)),
        text,
      ).toBe(error);
    for (const text of file.userIds.valid) expect(parseUserId(text)).toBe(text);
    for (const { text, error } of file.userIds.refused)
      expect(
        errorCodeOf(() => parseUserId(text)),
        text,
      ).toBe(error);
  });

  test("device, room and content ids", () => {
    for (const { publicKey, deviceId } of file.deviceIds.valid) {
      expect(deviceIdFromPublicKey(decodeHex(publicKey))).toBe(deviceId);
      expect(Buffer.from(publicKey, "hex").toString("base64url")).toBe(deviceId);
      expect(parseDeviceId(deviceId)).toBe(deviceId);
    }
    for (const { bytes, roomId } of file.roomIds.valid) {
      expect(roomIdFromBytes(decodeHex(bytes))).toBe(roomId);
      expect(parseRoomId(roomId)).toBe(roomId);
    }
    for (const { type, contentHex, contentId } of file.contentIds.valid) {
      expect(contentIdOf(type, decodeHex(contentHex))).toBe(contentId);
      expect(parseContentId(contentId)).toBe(contentId);
    }
    const refusals = [
      ...file.deviceIds.refused.map((vector) => ({ ...vector, parse: parseDeviceId })),
      ...file.roomIds.refused.map((vector) => ({ ...vector, parse: parseRoomId })),
      ...file.contentIds.refused.map((vector) => ({ ...vector, parse: parseContentId })),
    ];
    for (const { text, error, parse } of refusals)
      expect(
        errorCodeOf(() => parse(text)),
        text,
      ).toBe(error);
  });
});
