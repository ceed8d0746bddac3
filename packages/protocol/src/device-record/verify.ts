import { encodeChecked } from "../codec/encode.ts";
import { signatureContexts, verifyInContext } from "../crypto/contexts.ts";
import type { SignatureProvider } from "../crypto/signature-provider.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { type ContentId, contentIdOf } from "../identifiers/content-id.ts";
import { type DeviceId, deviceIdFromPublicKey } from "../identifiers/device-id.ts";
import { serverOfUser, type UserId } from "../identifiers/user-id.ts";
import { clockSkewToleranceMs, deviceRecordDecodeLimits } from "../limits.ts";
import type { VerifiedServerKeyDocument } from "../server-keys/document.ts";
import { serverKeyValidAt } from "../server-keys/lookup.ts";
import { decodeStructure, requireStructure } from "../validation/structure.ts";
import { attestationMessage } from "./create.ts";
import { checkDeviceRecordBody, type DeviceRecordWire, deviceRecordSchema } from "./schema.ts";
import type { VerifiedSignatureCache } from "./signature-cache.ts";

declare const verifiedBrand: unique symbol;

/**
 * A device identity record that passed `verifyDeviceRecord`: both signatures,
 * the server key's validity when it attested, and the validity window at the
 * verifier's time. Only that function makes one. Sequence, replay and
 * revocation are stateful and checked by `DeviceRegistry`.
 */
export type VerifiedDeviceRecord = VerifiedDeviceRecordFields & { readonly [verifiedBrand]: true };

export interface VerifiedDeviceRecordFields {
  readonly user: UserId;
  readonly deviceId: DeviceId;
  readonly deviceKey: Uint8Array;
  readonly sequence: number;
  readonly linkedDeviceIds: readonly DeviceId[];
  readonly validFromMs: number;
  readonly validUntilMs: number;
  readonly attestedAtMs: number;
  readonly serverKey: Uint8Array;
  /** `device-record:` and the SHA-256 of `bytes`. */
  readonly recordId: ContentId;
  /** The exact bytes verified, to store or forward unchanged. */
  readonly bytes: Uint8Array;
}

export interface DeviceRecordVerification {
  readonly provider: SignatureProvider;
  /** The verified key document of the user's homeserver. */
  readonly serverKeys: VerifiedServerKeyDocument;
  /** The verifier's current time. */
  readonly nowMs: number;
  /** Optional memo of objects whose signatures already verified (see signature-cache.ts). */
  readonly signatureCache?: VerifiedSignatureCache;
}

export const deviceRecordContentType = "device-record";

/**
 * Verifies an encoded device identity record, in the order of
 * docs/protocol.md §5.4 (cheap checks first, signatures last). Returns the
 * verified record or throws a ParleyError whose code names the first failed
 * check.
 */
export function verifyDeviceRecord(
  bytes: Uint8Array,
  verification: DeviceRecordVerification,
): VerifiedDeviceRecord {
  const { serverKeys, nowMs } = verification;
  const wire = decodeStructure(
    bytes,
    deviceRecordDecodeLimits,
    deviceRecordSchema,
    "device record",
  );
  const { body, attestation } = wire;
  const user = checkDeviceRecordBody(body);
  const server = serverOfUser(user);
  if (server !== serverKeys.server) {
    throw new ParleyError(
      "server_mismatch",
      `${user} is not attested by ${serverKeys.server} keys`,
    );
  }
  requireStructure(
    attestation.attestedAtMs >= body.validFromMs && attestation.attestedAtMs < body.validUntilMs,
    "the attestation time is outside the record's validity window",
  );
  if (body.validFromMs > nowMs + clockSkewToleranceMs) {
    throw new ParleyError(
      "record_not_yet_valid",
      `record starts at ${body.validFromMs}, now is ${nowMs}`,
    );
  }
  if (nowMs >= body.validUntilMs) {
    throw new ParleyError(
      "record_expired",
      `record ended at ${body.validUntilMs}, now is ${nowMs}`,
    );
  }
  if (attestation.attestedAtMs > nowMs + clockSkewToleranceMs) {
    throw new ParleyError(
      "timestamp_in_future",
      `attested at ${attestation.attestedAtMs}, now is ${nowMs}`,
    );
  }
  serverKeyValidAt(serverKeys, attestation.serverKey, attestation.attestedAtMs);
  const recordId = contentIdOf(deviceRecordContentType, bytes);
  const cache = verification.signatureCache;
  if (cache === undefined || !cache.has(recordId)) {
    checkSignatures(verification.provider, wire);
    cache?.add(recordId);
  }
  const verified: VerifiedDeviceRecordFields = {
    user,
    deviceId: deviceIdFromPublicKey(body.deviceKey),
    deviceKey: body.deviceKey,
    sequence: body.sequence,
    linkedDeviceIds: body.linkedDeviceKeys.map(deviceIdFromPublicKey),
    validFromMs: body.validFromMs,
    validUntilMs: body.validUntilMs,
    attestedAtMs: attestation.attestedAtMs,
    serverKey: attestation.serverKey,
    recordId,
    bytes: Uint8Array.from(bytes),
  };
  return verified as VerifiedDeviceRecord;
}

function checkSignatures(provider: SignatureProvider, wire: DeviceRecordWire): void {
  const { body, deviceSignature, attestation } = wire;
  const bodyBytes = encodeChecked(body);
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
  const attested = attestationMessage(body, attestation.serverKey, attestation.attestedAtMs);
  const context = signatureContexts.deviceAttestation;
  if (!verifyInContext(provider, attestation.serverKey, context, attested, attestation.signature)) {
    throw new ParleyError("signature_invalid", "the homeserver's attestation does not verify");
  }
}
