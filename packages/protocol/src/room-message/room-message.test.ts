import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { encodeBase64url } from "../codec/base64url.ts";
import { decodeHex, encodeHex } from "../codec/bytes.ts";
import { decodeCanonical } from "../codec/decode.ts";
import { encodeCanonical } from "../codec/encode.ts";
import type { CborMap } from "../codec/value.ts";
import { signatureContexts, signInContext } from "../crypto/contexts.ts";
import { sha256 } from "../crypto/hashing.ts";
import { nobleSignatureProvider } from "../crypto/noble-provider.ts";
import { nodeSignatureProvider } from "../crypto/node-provider.ts";
import { keyPairFromSeed } from "../crypto/signature-provider.ts";
import { roomIdFromBytes } from "../identifiers/room-id.ts";
import { roomMessageBodyBytesMax } from "./limits.ts";
import {
  type RoomMessageFields,
  signRoomMessage,
  verifyRoomMessage,
  verifyStoredRoomMessage,
} from "./room-message.ts";

/** Set to 1 to rewrite the vectors file after an intended change. */
const writeVariable = "PARLEY_WRITE_VECTORS";
const vectorsUrl = new URL("../../test-vectors/room-message.json", import.meta.url);
const seed = sha256(new TextEncoder().encode("parley test seed: room message device"));
const device = keyPairFromSeed(nobleSignatureProvider, seed);
const roomId = roomIdFromBytes(sha256(new TextEncoder().encode("room")).subarray(0, 16));
const fields: RoomMessageFields = {
  roomId,
  contentType: "text/plain; charset=utf-8",
  body: new TextEncoder().encode("hello, room"),
  clientId: "m-0001",
  sentAtMs: Date.UTC(2025, 0, 1),
};

function envelopeValue(bytes: Uint8Array): { message: CborMap; signature: Uint8Array } {
  return decodeCanonical(bytes) as unknown as { message: CborMap; signature: Uint8Array };
}

type MessageChange = (message: CborMap) => CborMap;

function reencode(bytes: Uint8Array, change: MessageChange): Uint8Array {
  const value = envelopeValue(bytes);
  return encodeCanonical({ message: change(value.message), signature: value.signature });
}

const refusedWith = (code: string) => expect.objectContaining({ code });

describe("room messages", () => {
  test("a signed message verifies with either provider and keeps its fields", () => {
    const bytes = signRoomMessage(nobleSignatureProvider, device, fields);
    for (const provider of [nobleSignatureProvider, nodeSignatureProvider]) {
      const verified = verifyRoomMessage(provider, bytes);
      expect(verified.roomId).toBe(roomId);
      expect(verified.clientId).toBe("m-0001");
      expect(verified.deviceId).toBe(encodeBase64url(device.publicKey));
      expect(new TextDecoder().decode(verified.body)).toBe("hello, room");
      const stored = verifyStoredRoomMessage(provider, verified.signedBytes, verified.signature);
      expect(stored.sentAtMs).toBe(fields.sentAtMs);
    }
  });

  test("changing any signed field breaks the signature", () => {
    const bytes = signRoomMessage(nobleSignatureProvider, device, fields);
    const changes: MessageChange[] = [
      (message) => ({ ...message, body: new TextEncoder().encode("hello, roon") }),
      (message) => ({ ...message, clientId: "m-0002" }),
      (message) => ({ ...message, sentAtMs: fields.sentAtMs + 1 }),
      (message) => ({ ...message, contentType: "text/markdown" }),
      (message) => ({ ...message, roomId: roomIdFromBytes(new Uint8Array(16)) }),
    ];
    for (const change of changes) {
      expect(() => verifyRoomMessage(nobleSignatureProvider, reencode(bytes, change))).toThrow(
        refusedWith("signature_invalid"),
      );
    }
  });

  test("a signature made in another context never verifies as a message", () => {
    const bytes = signRoomMessage(nobleSignatureProvider, device, fields);
    const { message } = envelopeValue(bytes);
    const foreign = signInContext(
      nobleSignatureProvider,
      device,
      signatureContexts.deviceRecord,
      encodeCanonical(message),
    );
    const forged = encodeCanonical({ message, signature: foreign });
    expect(() => verifyRoomMessage(nobleSignatureProvider, forged)).toThrow(
      refusedWith("signature_invalid"),
    );
  });

  test("malformed envelopes get their own codes", () => {
    const bytes = signRoomMessage(nobleSignatureProvider, device, fields);
    expect(() => verifyRoomMessage(nobleSignatureProvider, new Uint8Array([0xff]))).toThrow(
      refusedWith("bad_encoding"),
    );
    expect(() =>
      verifyRoomMessage(
        nobleSignatureProvider,
        reencode(bytes, (message) => ({ ...message, extra: 1 })),
      ),
    ).toThrow(refusedWith("bad_structure"));
    expect(() =>
      verifyRoomMessage(
        nobleSignatureProvider,
        reencode(bytes, (message) => ({ ...message, roomId: "!short" })),
      ),
    ).toThrow(refusedWith("bad_room_id"));
    expect(() =>
      verifyRoomMessage(
        nobleSignatureProvider,
        reencode(bytes, (message) => ({ ...message, clientId: "has space" })),
      ),
    ).toThrow(refusedWith("bad_structure"));
    expect(() =>
      verifyRoomMessage(nobleSignatureProvider, new Uint8Array(roomMessageBodyBytesMax + 4096)),
    ).toThrow(refusedWith("payload_too_large"));
  });

  test("signing refuses a body over the limit as a caller bug", () => {
    const body = new Uint8Array(roomMessageBodyBytesMax + 1);
    expect(() => signRoomMessage(nobleSignatureProvider, device, { ...fields, body })).toThrow(
      refusedWith("invalid_argument"),
    );
  });
});

interface RoomMessageVectors {
  readonly description: string;
  readonly context: string;
  readonly deviceSeed: string;
  readonly devicePublicKey: string;
  readonly valid: {
    readonly fields: Record<string, string | number>;
    readonly signedBytes: string;
    readonly signature: string;
    readonly envelope: string;
  };
  readonly invalid: ReadonlyArray<{
    readonly why: string;
    readonly envelope: string;
    readonly code: string;
  }>;
}

function buildVectors(): RoomMessageVectors {
  const envelope = signRoomMessage(nobleSignatureProvider, device, fields);
  const verified = verifyRoomMessage(nobleSignatureProvider, envelope);
  const tampered = reencode(envelope, (message) => ({
    ...message,
    body: new TextEncoder().encode("hello, roon"),
  }));
  const unknownField = reencode(envelope, (message) => ({ ...message, replyTo: "m-0000" }));
  const nonCanonical = Uint8Array.from([...envelope.subarray(0, 1), ...envelope.subarray(1)]);
  nonCanonical[0] = 0xbf; // An indefinite-length map: not canonical.
  return {
    description:
      "Room message envelopes (docs/protocol.md, Room messages). Bytes are lower-case hex; the body is UTF-8 text here but any bytes in general.",
    context: "parley/v1/room-message",
    deviceSeed: encodeHex(seed),
    devicePublicKey: encodeHex(device.publicKey),
    valid: {
      fields: {
        roomId: fields.roomId,
        contentType: fields.contentType,
        body: encodeHex(fields.body),
        clientId: fields.clientId,
        deviceId: verified.deviceId,
        sentAtMs: fields.sentAtMs,
      },
      signedBytes: encodeHex(verified.signedBytes),
      signature: encodeHex(verified.signature),
      envelope: encodeHex(envelope),
    },
    invalid: [
      {
        why: "body changed after signing",
        envelope: encodeHex(tampered),
        code: "signature_invalid",
      },
      {
        why: "unknown field in the signed map",
        envelope: encodeHex(unknownField),
        code: "bad_structure",
      },
      { why: "indefinite-length map", envelope: encodeHex(nonCanonical), code: "bad_encoding" },
    ],
  };
}

describe("room message test vectors", () => {
  test("the stored vectors are what this implementation produces", () => {
    const built = buildVectors();
    if (process.env[writeVariable] === "1") {
      writeFileSync(vectorsUrl, `${JSON.stringify(built, null, 2)}\n`);
    }
    const stored = JSON.parse(readFileSync(vectorsUrl, "utf8")) as RoomMessageVectors;
    expect(stored).toEqual(built);
  });

  test("every stored vector verifies or fails as it says", () => {
    const stored = JSON.parse(readFileSync(vectorsUrl, "utf8")) as RoomMessageVectors;
    const verified = verifyRoomMessage(nodeSignatureProvider, decodeHex(stored.valid.envelope));
    expect(encodeHex(verified.signedBytes)).toBe(stored.valid.signedBytes);
    for (const vector of stored.invalid) {
      expect(() => verifyRoomMessage(nodeSignatureProvider, decodeHex(vector.envelope))).toThrow(
        refusedWith(vector.code),
      );
    }
  });
});
