import { ED25519_TORSION_SUBGROUP } from "@noble/curves/ed25519.js";
import { compareBytes, decodeHex, encodeHex } from "../../src/codec/bytes.ts";
import { decodeCanonical } from "../../src/codec/decode.ts";
import { encodeCanonical } from "../../src/codec/encode.ts";
import type { CborMap, CborValue } from "../../src/codec/value.ts";
import { signatureContexts, signedMessage } from "../../src/crypto/contexts.ts";
import type { SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { attestationMessage } from "../../src/device-record/create.ts";
import type { DeviceRecordWire } from "../../src/device-record/schema.ts";
import { contentIdOf } from "../../src/identifiers/content-id.ts";
import { deviceIdFromPublicKey } from "../../src/identifiers/device-id.ts";
import { dayMs, issueRecord, minuteMs, startMs } from "../fixtures.ts";
import {
  type DocumentName,
  describeDocuments,
  describeKeys,
  exampleOrg,
  makeWorld,
  rotationMs,
} from "./world.ts";

interface RecordVector {
  readonly name: string;
  readonly recordHex: string;
  /** The verified key document of the user's homeserver to verify with (see `documents`). */
  readonly serverKeyDocument: DocumentName;
  readonly nowMs: number;
  readonly expected:
    | { readonly verdict: "valid"; readonly [field: string]: unknown }
    | { readonly verdict: "rejected"; readonly error: string; readonly why: string };
}

/** A decoded record opened for editing, to build records that must be refused. */
interface EditableRecord {
  body: {
    version?: CborValue;
    user?: CborValue;
    linkedDeviceKeys?: CborValue;
    validUntilMs?: CborValue;
    note?: CborValue;
  };
  deviceSignature: Uint8Array;
  attestation: { attestedAtMs?: CborValue };
}

function editRecord(bytes: Uint8Array, edit: (record: EditableRecord) => void): Uint8Array {
  const record = structuredClone(decodeCanonical(bytes)) as unknown as EditableRecord;
  edit(record);
  return encodeCanonical(record as unknown as CborMap);
}

/** What a verified record must yield, and the exact messages both signatures cover. */
function expectedValid(bytes: Uint8Array) {
  const wire = decodeCanonical(bytes) as unknown as DeviceRecordWire;
  const { body, attestation } = wire;
  return {
    verdict: "valid" as const,
    user: body.user,
    deviceId: deviceIdFromPublicKey(body.deviceKey),
    sequence: body.sequence,
    linkedDeviceIds: body.linkedDeviceKeys.map(deviceIdFromPublicKey),
    validFromMs: body.validFromMs,
    validUntilMs: body.validUntilMs,
    attestedAtMs: attestation.attestedAtMs,
    recordId: contentIdOf("device-record", bytes),
    signatures: {
      deviceKey: encodeHex(body.deviceKey),
      deviceSignature: encodeHex(wire.deviceSignature),
      deviceSignedMessageHex: encodeHex(
        signedMessage(signatureContexts.deviceRecord, encodeCanonical(body)),
      ),
      serverKey: encodeHex(attestation.serverKey),
      attestationSignature: encodeHex(attestation.signature),
      attestationSignedMessageHex: encodeHex(
        signedMessage(
          signatureContexts.deviceAttestation,
          attestationMessage(body, attestation.serverKey, attestation.attestedAtMs),
        ),
      ),
    },
  };
}

export function deviceRecordVectors(provider: SignatureProvider) {
  const world = makeWorld(provider);
  const { keys } = world;
  const alice = "alice@example.org";
  const now = startMs + minuteMs;
  const withKey1 = { name: exampleOrg, keyPair: keys.exampleKey1.keyPair };
  const withKey2 = { name: exampleOrg, keyPair: keys.exampleKey2.keyPair };
  const laptop = keys.aliceLaptop.keyPair;
  const phone = keys.alicePhone.keyPair;

  const laptopRecord = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: withKey1,
    linked: [phone],
  });
  const phoneRecord = issueRecord(provider, {
    user: alice,
    device: phone,
    server: withKey1,
    linked: [laptop],
  });
  const laptopRotated = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: withKey1,
    sequence: 2,
    linked: [phone, keys.bobPhone.keyPair],
    validFromMs: startMs + dayMs,
  });
  const shortRecord = issueRecord(provider, {
    user: alice,
    device: phone,
    server: withKey1,
    validUntilMs: startMs + 30 * dayMs,
  });
  const afterRotation = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: withKey2,
    sequence: 3,
    validFromMs: rotationMs + dayMs,
  });
  const retiredKeyUsed = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: withKey1,
    sequence: 3,
    validFromMs: rotationMs + dayMs,
  });
  const forged = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: { name: exampleOrg, keyPair: keys.evilKey.keyPair },
  });
  const fromFastServerClock = issueRecord(provider, {
    user: alice,
    device: laptop,
    server: withKey1,
    attestAtMs: startMs + 10 * minuteMs,
  });
  const smallOrderKey = decodeHex(ED25519_TORSION_SUBGROUP[2] ?? "");
  const twoLinked = [phone.publicKey, keys.bobPhone.keyPair.publicKey].sort(compareBytes);

  const valid = (
    name: string,
    bytes: Uint8Array,
    document: DocumentName,
    nowMs: number,
  ): RecordVector => ({
    name,
    recordHex: encodeHex(bytes),
    serverKeyDocument: document,
    nowMs,
    expected: expectedValid(bytes),
  });
  const rejected = (
    name: string,
    bytes: Uint8Array,
    error: string,
    why: string,
    document: DocumentName = "example.org serial 1",
    nowMs = now,
  ): RecordVector => ({
    name,
    recordHex: encodeHex(bytes),
    serverKeyDocument: document,
    nowMs,
    expected: { verdict: "rejected", error, why },
  });

  return {
    description:
      "Device identity records (docs/protocol.md §5). Verify `recordHex` with the named key document (itself verified on first contact) at `nowMs`. Valid vectors list the fields a verifier must read and the exact messages both signatures cover; rejected ones give the error code of the first failing check.",
    keys: describeKeys(world),
    documents: describeDocuments(world),
    vectors: [
      valid("alice's laptop, linked to her phone", laptopRecord, "example.org serial 1", now),
      valid("alice's phone, linked to her laptop", phoneRecord, "example.org serial 1", now),
      valid(
        "the laptop's second record, linking two devices",
        laptopRotated,
        "example.org serial 1",
        startMs + dayMs,
      ),
      valid(
        "at the last millisecond of its window",
        shortRecord,
        "example.org serial 1",
        startMs + 30 * dayMs - 1,
      ),
      valid(
        "five minutes before its start (clock-skew tolerance)",
        laptopRecord,
        "example.org serial 1",
        startMs - 5 * minuteMs,
      ),
      valid(
        "attested by key 1 before the rotation, verified after it",
        laptopRecord,
        "example.org serial 2",
        rotationMs + dayMs,
      ),
      valid(
        "attested by key 2 after the rotation",
        afterRotation,
        "example.org serial 2",
        rotationMs + dayMs,
      ),
      rejected(
        "expired",
        shortRecord,
        "record_expired",
        "now equals validUntilMs; the end is exclusive",
        "example.org serial 1",
        startMs + 30 * dayMs,
      ),
      rejected(
        "not yet valid",
        laptopRecord,
        "record_not_yet_valid",
        "more than five minutes before validFromMs",
        "example.org serial 1",
        startMs - 5 * minuteMs - 1,
      ),
      rejected(
        "attested with another server's key",
        forged,
        "server_key_unknown",
        "evil.example's key is not in example.org's document",
      ),
      rejected(
        "attested with key 1 after it retired",
        retiredKeyUsed,
        "server_key_not_valid",
        "key 1 is valid only until the rotation",
        "example.org serial 2",
        rotationMs + dayMs + minuteMs,
      ),
      rejected(
        "checked against another server's document",
        laptopRecord,
        "server_mismatch",
        "the user is on example.org",
        "evil.example serial 1",
      ),
      rejected(
        "attested in the future",
        fromFastServerClock,
        "timestamp_in_future",
        "attested 10 minutes after the verifier's now (tolerance 5)",
      ),
      rejected(
        "device signature damaged",
        editRecord(laptopRecord, (record) => {
          record.deviceSignature[0] = (record.deviceSignature[0] ?? 0) ^ 1;
        }),
        "signature_invalid",
        "one bit of the device signature flipped",
      ),
      rejected(
        "attestation time changed after signing",
        editRecord(laptopRecord, (record) => {
          record.attestation.attestedAtMs = startMs + 1;
        }),
        "signature_invalid",
        "the attestation covers attestedAtMs",
      ),
      rejected(
        "linked device replaced after signing",
        editRecord(laptopRecord, (record) => {
          record.body.linkedDeviceKeys = [keys.mallory.keyPair.publicKey];
        }),
        "signature_invalid",
        "both signatures cover the linked keys",
      ),
      rejected(
        "unknown body field",
        editRecord(laptopRecord, (record) => {
          record.body.note = "hello";
        }),
        "bad_structure",
        "objects are strict: unknown fields are refused",
      ),
      rejected(
        "version 2",
        editRecord(laptopRecord, (record) => {
          record.body.version = 2;
        }),
        "bad_structure",
        "only version 1 exists",
      ),
      rejected(
        "linked keys out of order",
        editRecord(laptopRecord, (record) => {
          record.body.linkedDeviceKeys = [...twoLinked].reverse();
        }),
        "bad_structure",
        "linked keys are sorted bytewise without duplicates",
      ),
      rejected(
        "small-order linked key",
        editRecord(laptopRecord, (record) => {
          record.body.linkedDeviceKeys = [smallOrderKey];
        }),
        "bad_public_key",
        "the point of order 4 is a weak key",
      ),
      rejected(
        "upper-case user id",
        editRecord(laptopRecord, (record) => {
          record.body.user = "Alice@example.org";
        }),
        "bad_user_id",
        "user ids are lower case",
      ),
      rejected(
        "validity window longer than 366 days",
        editRecord(laptopRecord, (record) => {
          record.body.validUntilMs = startMs + 367 * dayMs;
        }),
        "bad_structure",
        "the longest window is 366 days",
      ),
      rejected(
        "attested before the window starts",
        editRecord(laptopRecord, (record) => {
          record.attestation.attestedAtMs = startMs - 1;
        }),
        "bad_structure",
        "attestedAtMs must lie inside the record's window",
      ),
      rejected(
        "trailing byte",
        Uint8Array.from([...laptopRecord, 0]),
        "bad_encoding",
        "the record must be exactly one CBOR item",
      ),
      rejected(
        "larger than 4096 bytes",
        new Uint8Array(4097),
        "payload_too_large",
        "the size limit is checked before decoding",
      ),
    ],
  };
}
