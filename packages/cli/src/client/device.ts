// A device's identity for the command's tools and the tests: the SDK's
// device keys (@parley/client) with the signature provider they use, so the
// records and signatures here are exactly the SDK's.

import { deviceKeysFromSeed, generateDeviceKeys, signDeviceRecordRequest } from "@parley/client";
import type { DeviceId, KeyPair, SignatureProvider, UserId } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";

export interface Device {
  readonly provider: SignatureProvider;
  readonly keyPair: KeyPair;
  readonly deviceId: DeviceId;
}

export function newDevice(provider: SignatureProvider = nodeSignatureProvider): Device {
  return { provider, ...generateDeviceKeys(provider) };
}

export function deviceFromSeed(
  secretSeed: Uint8Array,
  provider: SignatureProvider = nodeSignatureProvider,
): Device {
  return { provider, ...deviceKeysFromSeed(provider, secretSeed) };
}

/** The signed record request (base64url) a device sends with register or login. */
export function deviceRecordRequest(
  device: Device,
  user: UserId,
  options: { readonly nowMs: number; readonly sequence?: number },
): string {
  return signDeviceRecordRequest(device.provider, device, {
    user,
    sequence: options.sequence ?? 1,
    nowMs: options.nowMs,
  });
}
