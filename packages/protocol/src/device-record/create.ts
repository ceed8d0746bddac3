import { compareBytes } from "../codec/bytes.ts";
import { encodeCanonical, encodeChecked } from "../codec/encode.ts";
import { signatureContexts, signInContext, verifyInContext } from "../crypto/contexts.ts";
import type { KeyPair, SignatureProvider } from "../crypto/signature-provider.ts";
import { checkCallerInput, ParleyError } from "../errors/parley-error.ts";
import type { ServerName } from "../identifiers/server-name.ts";
import { serverOfUser, type UserId } from "../identifiers/user-id.ts";
import { clockSkewToleranceMs, deviceRecordDecodeLimits } from "../limits.ts";
import { decodeStructure } from "../validation/structure.ts";
import {
  checkDeviceRecordBody,
  type DeviceRecordBody,
  type DeviceRecordRequest,
  deviceRecordRequestSchema,
} from "./schema.ts";

export interface DeviceRecordFields {
  readonly user: UserId;
  /** One more than the device's previous record; 1 for its first. */
  readonly sequence: number;
  /** Public keys of the user's other devices, in any order (they are sorted). */
  readonly linkedDeviceKeys: readonly Uint8Array[];
  readonly validFromMs: number;
  readonly validUntilMs: number;
}

/**
 * A homeserver's identity and signing key, for attesting. The key must be one
 * that the server's current key document lists as valid now; verifiers check
 * that against the attestation time (docs/protocol.md §5.3).
 */
export interface AttestingServer {
  readonly name: ServerName;
  readonly keyPair: KeyPair;
}

/**
 * Device side: makes the record body for the device's own key and signs it.
 * Returns the encoded request (body and device signature) to send to the
 * homeserver for attestation.
 */
export function signDeviceRecord(
  provider: SignatureProvider,
  deviceKeyPair: KeyPair,
  fields: DeviceRecordFields,
): Uint8Array {
  const body: DeviceRecordBody = {
    version: 1,
    user: fields.user,
    deviceKey: deviceKeyPair.publicKey,
    sequence: fields.sequence,
    linkedDeviceKeys: [...fields.linkedDeviceKeys].sort(compareBytes),
    validFromMs: fields.validFromMs,
    validUntilMs: fields.validUntilMs,
  };
  checkCallerInput("device record", () => checkDeviceRecordBody(body));
  const bodyBytes = encodeCanonical(body);
  const deviceSignature = signInContext(
    provider,
    deviceKeyPair,
    signatureContexts.deviceRecord,
    bodyBytes,
  );
  const request: DeviceRecordRequest = { body, deviceSignature };
  return encodeCanonical(request);
}

/**
 * Homeserver side: checks a device's request and countersigns it. The caller
 * owes the check that the request comes from an authenticated session of
 * this user (this function only sees bytes).
 *
 * Refuses with `forbidden` a user of another server, `signature_invalid` a
 * bad device signature, and `record_not_yet_valid` / `record_expired` a record
 * that does not hold now. The attestation time is `nowMs`, or the record's
 * start if the device's clock runs up to the skew tolerance ahead.
 */
export function attestDeviceRecord(
  provider: SignatureProvider,
  server: AttestingServer,
  requestBytes: Uint8Array,
  nowMs: number,
): Uint8Array {
  const request = decodeStructure(
    requestBytes,
    deviceRecordDecodeLimits,
    deviceRecordRequestSchema,
    "device record request",
  );
  const { body, deviceSignature } = request;
  const user = checkDeviceRecordBody(body);
  if (serverOfUser(user) !== server.name) {
    throw new ParleyError("forbidden", `${user} is not a user of ${server.name}`);
  }
  const bodyBytes = encodeCanonical(body);
  if (
    !verifyInContext(
      provider,
      body.deviceKey,
      signatureContexts.deviceRecord,
      bodyBytes,
      deviceSignature,
    )
  ) {
    throw new ParleyError("signature_invalid", "the device signature does not verify");
  }
  const attestedAtMs = attestationTime(body, nowMs);
  const serverKey = server.keyPair.publicKey;
  const signed = attestationMessage(body, serverKey, attestedAtMs);
  const signature = signInContext(
    provider,
    server.keyPair,
    signatureContexts.deviceAttestation,
    signed,
  );
  return encodeCanonical({
    body,
    deviceSignature,
    attestation: { serverKey, attestedAtMs, signature },
  });
}

/**
 * The canonical bytes a homeserver signs (in the device-attestation context).
 * `body` must already have passed the record schema, so the model walk of
 * encodeCanonical is skipped.
 */
export function attestationMessage(
  body: DeviceRecordBody,
  serverKey: Uint8Array,
  attestedAtMs: number,
): Uint8Array {
  return encodeChecked({ attestedAtMs, body, serverKey });
}

function attestationTime(body: DeviceRecordBody, nowMs: number): number {
  if (body.validFromMs > nowMs + clockSkewToleranceMs) {
    throw new ParleyError(
      "record_not_yet_valid",
      `record starts at ${body.validFromMs}, now is ${nowMs}`,
    );
  }
  const attestedAtMs = Math.max(nowMs, body.validFromMs);
  if (attestedAtMs >= body.validUntilMs) {
    throw new ParleyError(
      "record_expired",
      `record ended at ${body.validUntilMs}, now is ${nowMs}`,
    );
  }
  return attestedAtMs;
}
