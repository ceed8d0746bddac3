import { decodeBase64url, encodeBase64url } from "../codec/base64url.ts";
import { isAcceptablePublicKey } from "../crypto/public-key.ts";
import { publicKeyBytes } from "../crypto/signature-provider.ts";
import { ParleyError } from "../errors/parley-error.ts";

declare const deviceIdBrand: unique symbol;

/**
 * A device's id is its Ed25519 public key in base64url (43 characters). It
 * needs no registry and cannot collide: whoever can sign for the id holds the
 * key. A new key is a new device.
 */
export type DeviceId = string & { readonly [deviceIdBrand]: true };

export const deviceIdLength = 43;

export function deviceIdFromPublicKey(publicKey: Uint8Array): DeviceId {
  if (!isAcceptablePublicKey(publicKey)) {
    throw new ParleyError("bad_device_id", "a device id needs an acceptable 32-byte public key");
  }
  return encodeBase64url(publicKey) as DeviceId;
}

/** Parses a device id; throws `bad_device_id` unless it is the canonical text of an acceptable key. */
export function parseDeviceId(text: string): DeviceId {
  publicKeyOfDeviceText(text);
  return text as DeviceId;
}

export function publicKeyOfDevice(deviceId: DeviceId): Uint8Array {
  return publicKeyOfDeviceText(deviceId);
}

function publicKeyOfDeviceText(text: string): Uint8Array {
  if (text.length !== deviceIdLength) {
    throw new ParleyError("bad_device_id", `a device id has ${deviceIdLength} characters`);
  }
  let publicKey: Uint8Array;
  try {
    publicKey = decodeBase64url(text);
  } catch (cause) {
    throw new ParleyError("bad_device_id", "a device id is canonical base64url", { cause });
  }
  if (publicKey.length !== publicKeyBytes || !isAcceptablePublicKey(publicKey)) {
    throw new ParleyError("bad_device_id", "the device id is not an acceptable public key");
  }
  return publicKey;
}
