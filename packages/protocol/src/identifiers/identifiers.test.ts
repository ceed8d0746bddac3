import { ED25519_TORSION_SUBGROUP } from "@noble/curves/ed25519.js";
import { describe, expect, test } from "vitest";
import { encodeBase64url } from "../codec/base64url.ts";
import { decodeHex } from "../codec/bytes.ts";
import { nobleSignatureProvider } from "../crypto/noble-provider.ts";
import { keyPairFromSeed } from "../crypto/signature-provider.ts";
import { contentIdOf, contentIdParts, parseContentId } from "./content-id.ts";
import { deviceIdFromPublicKey, parseDeviceId, publicKeyOfDevice } from "./device-id.ts";
import { generateRoomId, parseRoomId, roomIdBytesOf, roomIdFromBytes } from "./room-id.ts";
import { parseServerName } from "./server-name.ts";
import { isUserId, makeUserId, parseUserId, serverOfUser, userIdParts } from "./user-id.ts";

const refusedWith = (code: string) => expect.objectContaining({ code });

describe("user ids", () => {
  test.each([
    ["alice@example.org", "alice", "example.org"],
    ["a@localhost:7001", "a", "localhost:7001"],
    ["bob.smith_2-x@[::1]:7001", "bob.smith_2-x", "[::1]:7001"],
    ["0@127.0.0.1", "0", "127.0.0.1"],
    [`${"a".repeat(64)}@example.org`, "a".repeat(64), "example.org"],
  ])("%s is valid", (text, localPart, server) => {
    expect(parseUserId(text)).toBe(text);
    expect(userIdParts(text)).toEqual({ localPart, server });
  });

  test.each([
    ["alice", "no @"],
    ["@example.org", "empty local part"],
    ["Alice@example.org", "upper case"],
    [".alice@example.org", "starts with a dot"],
    ["-alice@example.org", "starts with a hyphen"],
    ["al ice@example.org", "space"],
    ["al+ice@example.org", "plus"],
    ["alice@bob@example.org", "second @"],
    ["alice@", "empty server"],
    ["alice@Example.org", "non-canonical server"],
    ["\u00e4lice@example.org", "non-ASCII"],
    [`${"a".repeat(65)}@example.org`, "local part longer than 64"],
  ])("%s is refused (%s)", (text) => {
    expect(() => parseUserId(text)).toThrow(refusedWith("bad_user_id"));
    expect(isUserId(text)).toBe(false);
  });

  test("made from parts, and split back into them", () => {
    const server = parseServerName("example.org");
    const user = makeUserId("carol", server);
    expect(user).toBe("carol@example.org");
    expect(serverOfUser(user)).toBe(server);
    expect(() => makeUserId("Carol", server)).toThrow(refusedWith("bad_user_id"));
  });
});

describe("device ids", () => {
  const keyPair = keyPairFromSeed(nobleSignatureProvider, new Uint8Array(32).fill(3));

  test("are the device's public key in base64url, and give it back", () => {
    const deviceId = deviceIdFromPublicKey(keyPair.publicKey);
    expect(deviceId).toHaveLength(43);
    expect(deviceId).toBe(Buffer.from(keyPair.publicKey).toString("base64url"));
    expect(parseDeviceId(deviceId)).toBe(deviceId);
    expect(publicKeyOfDevice(deviceId)).toEqual(keyPair.publicKey);
  });

  test("refuse weak keys, wrong lengths and non-canonical text", () => {
    const weak = decodeHex(ED25519_TORSION_SUBGROUP[0] ?? "");
    expect(() => deviceIdFromPublicKey(weak)).toThrow(refusedWith("bad_device_id"));
    expect(() => parseDeviceId(encodeBase64url(weak))).toThrow(refusedWith("bad_device_id"));
    const valid = deviceIdFromPublicKey(keyPair.publicKey);
    expect(() => parseDeviceId(valid.slice(1))).toThrow(refusedWith("bad_device_id"));
    expect(() => parseDeviceId(`${valid.slice(0, 42)}=`)).toThrow(refusedWith("bad_device_id"));
    // 43 characters carry 258 bits; the last character's two spare bits must be zero.
    const last = valid.at(-1) ?? "A";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? "A";
    expect(() => parseDeviceId(valid.slice(0, 42) + sibling)).toThrow(refusedWith("bad_device_id"));
  });
});

describe("room ids", () => {
  test("are ! and 16 bytes in base64url, from injected randomness", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, index) => index);
    const roomId = generateRoomId(() => bytes);
    expect(roomId).toBe("!AAECAwQFBgcICQoLDA0ODw");
    expect(parseRoomId(roomId)).toBe(roomId);
    expect(roomIdBytesOf(roomId)).toEqual(bytes);
    expect(roomIdFromBytes(bytes)).toBe(roomId);
  });

  test.each([
    ["AAECAwQFBgcICQoLDA0ODw"],
    ["!AAECAwQFBgcICQoLDA0OD"],
    ["!AAECAwQFBgcICQoLDA0ODx"],
    ["#AAECAwQFBgcICQoLDA0ODw"],
    ["!AAECAwQFBgcICQoLDA0OD/"],
  ])("%s is refused", (text) => {
    expect(() => parseRoomId(text)).toThrow(refusedWith("bad_room_id"));
  });

  test("a wrong number of random bytes is a caller's mistake", () => {
    expect(() => roomIdFromBytes(new Uint8Array(15))).toThrow(refusedWith("invalid_argument"));
  });
});

describe("content ids", () => {
  test("are type:base64url(SHA-256(bytes))", () => {
    // SHA-256 of the empty string, a well-known value.
    const empty = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
    const id = contentIdOf("device-record", new Uint8Array());
    expect(id).toBe(`device-record:${empty}`);
    expect(parseContentId(id)).toBe(id);
    expect(contentIdParts(id).type).toBe("device-record");
    expect(contentIdParts(id).digest).toEqual(
      decodeHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    );
  });

  test.each([
    ["device-record"],
    [":47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"],
    ["Device:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"],
    ["1x:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"],
    ["x:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFV"],
    ["x:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuF"],
    [`${"x".repeat(33)}:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU`],
  ])("%s is refused", (text) => {
    expect(() => parseContentId(text)).toThrow(refusedWith("bad_content_id"));
  });

  test("a bad type is a caller's mistake when making an id", () => {
    expect(() => contentIdOf("Bad Type", new Uint8Array())).toThrow(
      refusedWith("invalid_argument"),
    );
  });
});
