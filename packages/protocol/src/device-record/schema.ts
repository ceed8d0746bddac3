import { z } from "zod";
import { compareBytes, equalBytes } from "../codec/bytes.ts";
import { assertAcceptablePublicKey } from "../crypto/public-key.ts";
import { parseUserId, type UserId } from "../identifiers/user-id.ts";
import { deviceRecordValidityMaxMs, linkedDevicesMax } from "../limits.ts";
import {
  publicKeySchema,
  requireStructure,
  sequenceSchema,
  signatureSchema,
  timestampMsSchema,
} from "../validation/structure.ts";

/**
 * What a device says about itself, signed with its own key: which user it
 * belongs to, its public key, the version of this statement, the user's other
 * devices, and when the statement holds (validFromMs inclusive, validUntilMs
 * exclusive).
 */
export const deviceRecordBodySchema = z.strictObject({
  version: z.literal(1),
  user: z.string(),
  deviceKey: publicKeySchema,
  sequence: sequenceSchema,
  linkedDeviceKeys: z.array(publicKeySchema).max(linkedDevicesMax),
  validFromMs: timestampMsSchema,
  validUntilMs: timestampMsSchema,
});

/** The homeserver's countersignature: "I sponsor this device key as this user". */
export const attestationSchema = z.strictObject({
  serverKey: publicKeySchema,
  attestedAtMs: timestampMsSchema,
  signature: signatureSchema,
});

/** A record signed by its device, before attestation: what a device sends its homeserver. */
export const deviceRecordRequestSchema = z.strictObject({
  body: deviceRecordBodySchema,
  deviceSignature: signatureSchema,
});

/** A complete device identity record (DIR): the form that travels between servers. */
export const deviceRecordSchema = z.strictObject({
  body: deviceRecordBodySchema,
  deviceSignature: signatureSchema,
  attestation: attestationSchema,
});

export type DeviceRecordBody = z.infer<typeof deviceRecordBodySchema>;
export type Attestation = z.infer<typeof attestationSchema>;
export type DeviceRecordRequest = z.infer<typeof deviceRecordRequestSchema>;
export type DeviceRecordWire = z.infer<typeof deviceRecordSchema>;

/**
 * The rules on a record body beyond its shape. Linked keys are sorted and
 * unique so one set of devices has one encoding; a device never lists itself.
 */
export function checkDeviceRecordBody(body: DeviceRecordBody): UserId {
  const user = parseUserId(body.user);
  assertAcceptablePublicKey(body.deviceKey, "the device key");
  for (const [index, linked] of body.linkedDeviceKeys.entries()) {
    assertAcceptablePublicKey(linked, `linked device key ${index}`);
    requireStructure(!equalBytes(linked, body.deviceKey), "a device does not link itself");
    const previous = body.linkedDeviceKeys[index - 1];
    requireStructure(
      previous === undefined || compareBytes(previous, linked) < 0,
      "linked device keys must be sorted, without duplicates",
    );
  }
  requireStructure(body.validUntilMs > body.validFromMs, "validUntilMs must be after validFromMs");
  requireStructure(
    body.validUntilMs - body.validFromMs <= deviceRecordValidityMaxMs,
    `the validity window is longer than ${deviceRecordValidityMaxMs} ms`,
  );
  return user;
}
