// A device's identity on the client side: its Ed25519 key pair (made on the
// device, never sent anywhere), its id (the public key in base64url), and the
// device identity record it signs for its homeserver to attest.

import {
  type DeviceId,
  deviceIdFromPublicKey,
  encodeBase64url,
  type KeyPair,
  keyPairFromSeed,
  type SignatureProvider,
  signDeviceRecord,
  type UserId,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";

export interface Device {
  readonly provider: SignatureProvider;
  readonly keyPair: KeyPair;
  readonly deviceId: DeviceId;
}

/** One year, inside the protocol's 366-day bound for a record's validity. */
const recordValidityMs = 365 * 24 * 60 * 60 * 1000;

export function newDevice(provider: SignatureProvider = nodeSignatureProvider): Device {
  const keyPair = provider.generateKeyPair();
  return { provider, keyPair, deviceId: deviceIdFromPublicKey(keyPair.publicKey) };
}

export function deviceFromSeed(
  secretSeed: Uint8Array,
  provider: SignatureProvider = nodeSignatureProvider,
): Device {
  const keyPair = keyPairFromSeed(provider, secretSeed);
  return { provider, keyPair, deviceId: deviceIdFromPublicKey(keyPair.publicKey) };
}

/** The signed record request (base64url) a device sends with register or login. */
export function deviceRecordRequest(
  device: Device,
  user: UserId,
  options: { readonly nowMs: number; readonly sequence?: number },
): string {
  const bytes = signDeviceRecord(device.provider, device.keyPair, {
    user,
    sequence: options.sequence ?? 1,
    linkedDeviceKeys: [],
    // A minute back, so a server whose clock runs slightly behind accepts it.
    validFromMs: options.nowMs - 60_000,
    validUntilMs: options.nowMs - 60_000 + recordValidityMs,
  });
  return encodeBase64url(bytes);
}
