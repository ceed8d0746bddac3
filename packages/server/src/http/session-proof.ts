// The proof a device gives to open a session without a password: it signs the
// server's challenge with its device key, in its own signature context, over
// a canonical CBOR map that binds the challenge to this server and this
// device, so a signature made for one server is useless at another:
//
//     UTF-8("parley/v1/session-challenge") || 0x00 ||
//       canonical CBOR {challenge: bytes, deviceId: text, server: text}
//
// Clients import `signSessionChallenge` from "@parley/server/client-api".

import {
  concatBytes,
  type DeviceId,
  encodeCanonical,
  type KeyPair,
  publicKeyOfDevice,
  type SignatureProvider,
} from "@parley/protocol";

export const sessionChallengeSignatureContext = "parley/v1/session-challenge";

const contextPrefix = new TextEncoder().encode(`${sessionChallengeSignatureContext}\0`);

export function sessionChallengeMessage(
  challenge: Uint8Array,
  deviceId: string,
  server: string,
): Uint8Array {
  return concatBytes(contextPrefix, encodeCanonical({ challenge, deviceId, server }));
}

export function signSessionChallenge(
  provider: SignatureProvider,
  deviceKeyPair: KeyPair,
  input: { readonly challenge: Uint8Array; readonly deviceId: string; readonly server: string },
): Uint8Array {
  return provider.sign(
    deviceKeyPair,
    sessionChallengeMessage(input.challenge, input.deviceId, input.server),
  );
}

export function verifySessionChallenge(
  provider: SignatureProvider,
  input: {
    readonly challenge: Uint8Array;
    readonly deviceId: DeviceId;
    readonly server: string;
    readonly signature: Uint8Array;
  },
): boolean {
  if (input.signature.length !== 64) return false;
  return provider.verify(
    publicKeyOfDevice(input.deviceId),
    sessionChallengeMessage(input.challenge, input.deviceId, input.server),
    input.signature,
  );
}
