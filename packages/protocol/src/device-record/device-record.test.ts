import { ED25519_TORSION_SUBGROUP } from "@noble/curves/ed25519.js";
import { describe, expect, test } from "vitest";
import { errorCodeOf } from "../../test/error-code-of.ts";
import {
  dayMs,
  issueRecord,
  keyPairOf,
  makeServer,
  minuteMs,
  startMs,
} from "../../test/fixtures.ts";
import { compareBytes, decodeHex } from "../codec/bytes.ts";
import { decodeCanonical } from "../codec/decode.ts";
import { encodeCanonical } from "../codec/encode.ts";
import type { CborMap, CborValue } from "../codec/value.ts";
import { nodeSignatureProvider as provider } from "../crypto/node-provider.ts";
import type { SignatureProvider } from "../crypto/signature-provider.ts";
import { deviceIdFromPublicKey } from "../identifiers/device-id.ts";
import { parseUserId } from "../identifiers/user-id.ts";
import { attestDeviceRecord, signDeviceRecord } from "./create.ts";
import { VerifiedSignatureCache } from "./signature-cache.ts";
import { verifyDeviceRecord } from "./verify.ts";

const server = makeServer(provider, "example.org");
const device = keyPairOf(provider, "unit device");
const other = keyPairOf(provider, "unit other device");
const user = "gina@example.org";
const now = startMs + minuteMs;
const record = issueRecord(provider, { user, device, server, linked: [other] });

function verify(bytes: Uint8Array, nowMs = now, signatureCache?: VerifiedSignatureCache) {
  const base = { provider, serverKeys: server.keys, nowMs };
  return verifyDeviceRecord(
    bytes,
    signatureCache === undefined ? base : { ...base, signatureCache },
  );
}

/** A decoded record opened up for editing, including fields a record must not have. */
interface EditableWire {
  body: {
    version?: CborValue;
    user?: CborValue;
    deviceKey?: CborValue;
    sequence?: CborValue;
    linkedDeviceKeys?: CborValue;
    validFromMs?: CborValue;
    validUntilMs?: CborValue;
    extra?: CborValue;
  };
  attestation?: { attestedAtMs?: CborValue };
}

/** Decodes the record, lets `edit` change the decoded value, and encodes it again. */
function edited(edit: (wire: EditableWire) => void): Uint8Array {
  const wire = structuredClone(decodeCanonical(record)) as CborMap;
  edit(wire as unknown as EditableWire);
  return encodeCanonical(wire);
}

describe("verifying a device identity record", () => {
  test("gives back what the device and its server signed", () => {
    const verified = verify(record);
    expect(verified.user).toBe(user);
    expect(verified.deviceId).toBe(deviceIdFromPublicKey(device.publicKey));
    expect(verified.deviceKey).toEqual(device.publicKey);
    expect(verified.linkedDeviceIds).toEqual([deviceIdFromPublicKey(other.publicKey)]);
    expect(verified.sequence).toBe(1);
    expect(verified.serverKey).toEqual(server.keyPair.publicKey);
    expect(verified.attestedAtMs).toBe(startMs);
    expect(verified.bytes).toEqual(record);
    expect(verified.recordId).toMatch(/^device-record:[A-Za-z0-9_-]{43}$/);
  });

  test("flipping any single bit of the record makes verification fail with a ParleyError", () => {
    const codes = new Set<string>();
    for (let bit = 0; bit < record.length * 8; bit += 1) {
      const flipped = Uint8Array.from(record);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const code = errorCodeOf(() => verify(flipped));
      expect(code, `bit ${bit}`).not.toBe("accepted");
      codes.add(code);
    }
    // The flips hit every layer: encoding, structure, identifiers, time, keys and signatures.
    expect(codes).toContain("bad_encoding");
    expect(codes).toContain("bad_structure");
    expect(codes).toContain("signature_invalid");
  });

  test.each([
    [
      "an unknown body field",
      (wire: EditableWire) => {
        wire.body.extra = 1;
      },
      "bad_structure",
    ],
    [
      "a missing attestation",
      (wire: EditableWire) => {
        delete wire.attestation;
      },
      "bad_structure",
    ],
    [
      "version 2",
      (wire: EditableWire) => {
        wire.body.version = 2;
      },
      "bad_structure",
    ],
    [
      "a 31-byte device key",
      (wire: EditableWire) => {
        wire.body.deviceKey = new Uint8Array(31);
      },
      "bad_structure",
    ],
    [
      "a sequence of 0",
      (wire: EditableWire) => {
        wire.body.sequence = 0;
      },
      "bad_structure",
    ],
    [
      "an upper-case user id",
      (wire: EditableWire) => {
        wire.body.user = "Gina@example.org";
      },
      "bad_user_id",
    ],
    [
      "a small-order device key",
      (wire: EditableWire) => {
        wire.body.deviceKey = decodeHex(ED25519_TORSION_SUBGROUP[2] ?? "");
      },
      "bad_public_key",
    ],
    [
      "the device linking itself",
      (wire: EditableWire) => {
        wire.body.linkedDeviceKeys = [device.publicKey];
      },
      "bad_structure",
    ],
    [
      "unsorted linked keys",
      (wire: EditableWire) => {
        const keys = [other.publicKey, keyPairOf(provider, "third").publicKey]
          .sort(compareBytes)
          .reverse();
        wire.body.linkedDeviceKeys = keys;
      },
      "bad_structure",
    ],
    [
      "a duplicate linked key",
      (wire: EditableWire) => {
        wire.body.linkedDeviceKeys = [other.publicKey, other.publicKey];
      },
      "bad_structure",
    ],
    [
      "a window that ends before it starts",
      (wire: EditableWire) => {
        wire.body.validUntilMs = startMs;
      },
      "bad_structure",
    ],
    [
      "a window longer than 366 days",
      (wire: EditableWire) => {
        wire.body.validUntilMs = startMs + 367 * dayMs;
      },
      "bad_structure",
    ],
    [
      "an attestation before the window",
      (wire: EditableWire) => {
        if (wire.attestation) wire.attestation.attestedAtMs = startMs - 1;
      },
      "bad_structure",
    ],
    [
      "a user of another server",
      (wire: EditableWire) => {
        wire.body.user = "gina@example.net";
      },
      "server_mismatch",
    ],
    [
      "a changed sequence (signatures no longer match)",
      (wire: EditableWire) => {
        wire.body.sequence = 2;
      },
      "signature_invalid",
    ],
    [
      "a changed attestation time",
      (wire: EditableWire) => {
        if (wire.attestation) wire.attestation.attestedAtMs = startMs + 1;
      },
      "signature_invalid",
    ],
  ])("refuses %s", (_, edit, code) => {
    expect(errorCodeOf(() => verify(edited(edit)))).toBe(code);
  });

  test("refuses more linked devices than a user may have, while decoding", () => {
    const many = Array.from(
      { length: 32 },
      (_, index) => keyPairOf(provider, `many ${index}`).publicKey,
    );
    const bytes = edited((wire) => {
      wire.body.linkedDeviceKeys = many.sort(compareBytes);
    });
    expect(errorCodeOf(() => verify(bytes))).toBe("bad_encoding");
  });

  test("refuses an oversized record before decoding it", () => {
    const padded = new Uint8Array(5000);
    expect(errorCodeOf(() => verify(padded))).toBe("payload_too_large");
  });

  test("refuses an attestation from the future", () => {
    const request = signDeviceRecord(provider, device, {
      user: parseUserId(user),
      sequence: 1,
      linkedDeviceKeys: [],
      validFromMs: startMs,
      validUntilMs: startMs + 90 * dayMs,
    });
    const fromFastClock = attestDeviceRecord(provider, server, request, startMs + 10 * dayMs);
    expect(errorCodeOf(() => verify(fromFastClock))).toBe("timestamp_in_future");
    expect(verify(fromFastClock, startMs + 10 * dayMs).attestedAtMs).toBe(startMs + 10 * dayMs);
  });
});

describe("the verified-signature cache", () => {
  function countingProvider(): SignatureProvider & { calls: number } {
    const counting = {
      ...provider,
      calls: 0,
      verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
        counting.calls += 1;
        return provider.verify(publicKey, message, signature);
      },
    };
    return counting;
  }

  test("a second verification of the same bytes skips both signatures", () => {
    const counting = countingProvider();
    const cache = new VerifiedSignatureCache(8);
    const context = {
      provider: counting,
      serverKeys: server.keys,
      nowMs: now,
      signatureCache: cache,
    };
    verifyDeviceRecord(record, context);
    expect(counting.calls).toBe(2);
    verifyDeviceRecord(record, context);
    expect(counting.calls).toBe(2);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
  });

  test("time is checked on every verification, cached or not", () => {
    const cache = new VerifiedSignatureCache(8);
    verify(record, now, cache);
    expect(errorCodeOf(() => verify(record, startMs + 90 * dayMs, cache))).toBe("record_expired");
  });

  test("a record whose signature fails is never remembered", () => {
    const cache = new VerifiedSignatureCache(8);
    const tampered = edited((wire) => {
      if (wire.attestation) wire.attestation.attestedAtMs = startMs + 1;
    });
    expect(errorCodeOf(() => verify(tampered, now, cache))).toBe("signature_invalid");
    expect(cache.size).toBe(0);
    expect(errorCodeOf(() => verify(tampered, now, cache))).toBe("signature_invalid");
  });

  test("holds at most entriesMax records, dropping the least recently used", () => {
    const cache = new VerifiedSignatureCache(2);
    const records = [1, 2, 3].map((sequence) =>
      issueRecord(provider, { user, device, server, sequence }),
    );
    const [first, second, third] = records.map((bytes) => verify(bytes, now, cache).recordId);
    expect(cache.size).toBe(2);
    if (first === undefined || second === undefined || third === undefined)
      throw new Error("three ids");
    expect(cache.has(first)).toBe(false);
    expect(cache.has(second)).toBe(true);
    expect(cache.has(third)).toBe(true);
  });
});

describe("attesting a device's request", () => {
  const request = signDeviceRecord(provider, device, {
    user: parseUserId(user),
    sequence: 1,
    linkedDeviceKeys: [other.publicKey],
    validFromMs: startMs,
    validUntilMs: startMs + dayMs,
  });

  test("refuses a user of another server", () => {
    const otherServer = makeServer(provider, "example.net");
    expect(errorCodeOf(() => attestDeviceRecord(provider, otherServer, request, startMs))).toBe(
      "forbidden",
    );
  });

  test("refuses a request whose device signature does not verify", () => {
    const tampered = Uint8Array.from(request);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(errorCodeOf(() => attestDeviceRecord(provider, server, tampered, startMs))).toBe(
      "signature_invalid",
    );
  });

  test("tolerates a device clock up to five minutes ahead, and no more", () => {
    const attested = attestDeviceRecord(provider, server, request, startMs - 5 * minuteMs);
    expect(verify(attested).attestedAtMs).toBe(startMs);
    expect(
      errorCodeOf(() => attestDeviceRecord(provider, server, request, startMs - 5 * minuteMs - 1)),
    ).toBe("record_not_yet_valid");
    expect(errorCodeOf(() => attestDeviceRecord(provider, server, request, startMs + dayMs))).toBe(
      "record_expired",
    );
  });

  test("a device cannot sign a record that breaks the rules", () => {
    const fields = {
      user: parseUserId(user),
      sequence: 1,
      linkedDeviceKeys: [device.publicKey],
      validFromMs: startMs,
      validUntilMs: startMs + dayMs,
    };
    expect(errorCodeOf(() => signDeviceRecord(provider, device, fields))).toBe("invalid_argument");
  });
});
