// A device's identity on the client: its Ed25519 key pair, made on the device
// and never sent anywhere; its id (the public key, base64url); the device
// record request it signs for its homeserver to attest (docs/protocol.md
// §5.1, §10.2); and the proof that opens a session without the password.

import {
  concatBytes,
  type DeviceId,
  deviceIdFromPublicKey,
  encodeBase64url,
  encodeCanonical,
  type KeyPair,
  keyPairFromSeed,
  type SignatureProvider,
  signDeviceRecord,
  type UserId,
} from "@parley/protocol";

export interface DeviceKeys {
  readonly deviceId: DeviceId;
  readonly keyPair: KeyPair;
}

/**
 * How long a record the SDK signs is valid: one year, inside the protocol's
 * 366-day bound. Logging in again signs a new record with a higher sequence.
 */
export const deviceRecordValidityMs = 365 * 24 * 60 * 60 * 1000;

/**
 * How far back a record's window starts, so a homeserver whose clock runs a
 * little behind the device's still finds it valid.
 */
export const deviceRecordBackdateMs = 60_000;

export function generateDeviceKeys(provider: SignatureProvider): DeviceKeys {
  const keyPair = provider.generateKeyPair();
  return { deviceId: deviceIdFromPublicKey(keyPair.publicKey), keyPair };
}

export function deviceKeysFromSeed(
  provider: SignatureProvider,
  secretSeed: Uint8Array,
): DeviceKeys {
  const keyPair = keyPairFromSeed(provider, secretSeed);
  return { deviceId: deviceIdFromPublicKey(keyPair.publicKey), keyPair };
}

/**
 * The signed, not yet attested record `{body, deviceSignature}` (base64url)
 * sent with register and login. `sequence` must grow with each record of the
 * key (§5.6): the server refuses an older one with `record_replayed`.
 */
export function signDeviceRecordRequest(
  provider: SignatureProvider,
  keys: DeviceKeys,
  input: {
    readonly user: UserId;
    readonly sequence: number;
    readonly nowMs: number;
    readonly linkedDeviceKeys?: readonly Uint8Array[];
  },
): string {
  const validFromMs = input.nowMs - deviceRecordBackdateMs;
  const bytes = signDeviceRecord(provider, keys.keyPair, {
    user: input.user,
    sequence: input.sequence,
    linkedDeviceKeys: [...(input.linkedDeviceKeys ?? [])],
    validFromMs,
    validUntilMs: validFromMs + deviceRecordValidityMs,
  });
  return encodeBase64url(bytes);
}

/** The signature context of session challenges (docs/protocol.md §10.2). */
export const sessionChallengeSignatureContext = "parley/v1/session-challenge";

const sessionChallengePrefix = new TextEncoder().encode(`${sessionChallengeSignatureContext}\0`);

/**
 * Signs a session challenge: the context, a zero byte, and the canonical CBOR
 * of `{challenge, deviceId, server}`, so the signature is useless at any
 * other server or for any other device.
 */
export function signSessionChallenge(
  provider: SignatureProvider,
  keys: DeviceKeys,
  input: { readonly challenge: Uint8Array; readonly server: string },
): Uint8Array {
  const statement = encodeCanonical({
    challenge: input.challenge,
    deviceId: keys.deviceId,
    server: input.server,
  });
  return provider.sign(keys.keyPair, concatBytes(sessionChallengePrefix, statement));
}
