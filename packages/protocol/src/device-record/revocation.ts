import { z } from "zod";
import { equalBytes } from "../codec/bytes.ts";
import { encodeCanonical, encodeChecked } from "../codec/encode.ts";
import { signatureContexts, signInContext, verifyInContext } from "../crypto/contexts.ts";
import { assertAcceptablePublicKey } from "../crypto/public-key.ts";
import type { KeyPair, SignatureProvider } from "../crypto/signature-provider.ts";
import { checkCallerInput, ParleyError } from "../errors/parley-error.ts";
import { type ContentId, contentIdOf } from "../identifiers/content-id.ts";
import { type DeviceId, deviceIdFromPublicKey } from "../identifiers/device-id.ts";
import { parseUserId, serverOfUser, type UserId } from "../identifiers/user-id.ts";
import {
  clockSkewToleranceMs,
  deviceRecordDecodeLimits,
  deviceRevocationBytesMax,
} from "../limits.ts";
import type { VerifiedServerKeyDocument } from "../server-keys/document.ts";
import { serverKeyValidAt } from "../server-keys/lookup.ts";
import {
  decodeStructure,
  publicKeySchema,
  signatureSchema,
  timestampMsSchema,
} from "../validation/structure.ts";

/**
 * A revocation ends a device for good. It may be signed by the device itself
 * (a user retiring a device they still hold) or by the user's homeserver, with
 * a key valid at `revokedAtMs` (a lost or stolen device). Once a verifier has
 * accepted a revocation, no record of that device is ever valid again, whatever
 * its sequence: see DeviceRegistry.
 */
export const deviceRevocationBodySchema = z.strictObject({
  version: z.literal(1),
  user: z.string(),
  deviceKey: publicKeySchema,
  revokedAtMs: timestampMsSchema,
  /** The device key itself, or a key of the user's homeserver. */
  signerKey: publicKeySchema,
});

export const deviceRevocationSchema = z.strictObject({
  body: deviceRevocationBodySchema,
  signature: signatureSchema,
});

export type DeviceRevocationBody = z.infer<typeof deviceRevocationBodySchema>;

declare const verifiedBrand: unique symbol;

export type VerifiedDeviceRevocation = VerifiedDeviceRevocationFields & {
  readonly [verifiedBrand]: true;
};

export interface VerifiedDeviceRevocationFields {
  readonly user: UserId;
  readonly deviceId: DeviceId;
  readonly revokedAtMs: number;
  /** Who signed: the device itself, or its homeserver. */
  readonly signedBy: "device" | "server";
  readonly revocationId: ContentId;
  readonly bytes: Uint8Array;
}

export interface DeviceRevocationFields {
  readonly user: UserId;
  readonly deviceKey: Uint8Array;
  readonly revokedAtMs: number;
}

export interface DeviceRevocationVerification {
  readonly provider: SignatureProvider;
  /** The verified key document of the user's homeserver. */
  readonly serverKeys: VerifiedServerKeyDocument;
  readonly nowMs: number;
}

const revocationDecodeLimits = {
  ...deviceRecordDecodeLimits,
  totalBytesMax: deviceRevocationBytesMax,
};

export const deviceRevocationContentType = "device-revocation";

/** Signs a revocation with `signer`: the device's own key pair, or a homeserver key pair. */
export function createDeviceRevocation(
  provider: SignatureProvider,
  signer: KeyPair,
  fields: DeviceRevocationFields,
): Uint8Array {
  const body: DeviceRevocationBody = {
    version: 1,
    user: fields.user,
    deviceKey: fields.deviceKey,
    revokedAtMs: fields.revokedAtMs,
    signerKey: signer.publicKey,
  };
  checkCallerInput("device revocation", () => checkRevocationBody(body));
  const signature = signInContext(
    provider,
    signer,
    signatureContexts.deviceRevocation,
    encodeCanonical(body),
  );
  return encodeCanonical({ body, signature });
}

/**
 * Verifies a revocation: shape; user and keys; the homeserver named by the
 * user matches `serverKeys`; time not in the future; a server signer valid at
 * `revokedAtMs`; the signature.
 */
export function verifyDeviceRevocation(
  bytes: Uint8Array,
  verification: DeviceRevocationVerification,
): VerifiedDeviceRevocation {
  const { serverKeys, nowMs, provider } = verification;
  const wire = decodeStructure(
    bytes,
    revocationDecodeLimits,
    deviceRevocationSchema,
    "device revocation",
  );
  const { body, signature } = wire;
  const user = checkRevocationBody(body);
  if (serverOfUser(user) !== serverKeys.server) {
    throw new ParleyError("server_mismatch", `${user} is not a user of ${serverKeys.server}`);
  }
  if (body.revokedAtMs > nowMs + clockSkewToleranceMs) {
    throw new ParleyError("timestamp_in_future", `revoked at ${body.revokedAtMs}, now is ${nowMs}`);
  }
  const signedBy = equalBytes(body.signerKey, body.deviceKey) ? "device" : "server";
  if (signedBy === "server") serverKeyValidAt(serverKeys, body.signerKey, body.revokedAtMs);
  const context = signatureContexts.deviceRevocation;
  if (!verifyInContext(provider, body.signerKey, context, encodeChecked(body), signature)) {
    throw new ParleyError("signature_invalid", "the revocation signature does not verify");
  }
  const verified: VerifiedDeviceRevocationFields = {
    user,
    deviceId: deviceIdFromPublicKey(body.deviceKey),
    revokedAtMs: body.revokedAtMs,
    signedBy,
    revocationId: contentIdOf(deviceRevocationContentType, bytes),
    bytes: Uint8Array.from(bytes),
  };
  return verified as VerifiedDeviceRevocation;
}

function checkRevocationBody(body: DeviceRevocationBody): UserId {
  const user = parseUserId(body.user);
  assertAcceptablePublicKey(body.deviceKey, "the revoked device key");
  assertAcceptablePublicKey(body.signerKey, "the signer key");
  return user;
}
