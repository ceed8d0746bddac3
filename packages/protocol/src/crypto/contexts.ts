import { concatBytes } from "../codec/bytes.ts";
import { ParleyError } from "../errors/parley-error.ts";
import { isAcceptablePublicKey } from "./public-key.ts";
import {
  type KeyPair,
  publicKeyBytes,
  type SignatureProvider,
  signatureBytes,
} from "./signature-provider.ts";

/**
 * Domain separation. Every Parley signature is over
 *
 *     UTF-8(context) || 0x00 || canonical CBOR bytes
 *
 * so a signature made for one purpose can never be replayed as another (a
 * device's record signature is never a valid revocation, and so on). The zero
 * byte ends the context; contexts contain no zero byte. New purposes get new
 * contexts; the "v1" changes only if the signed structures change incompatibly.
 */
export const signatureContexts = {
  /** A device signs the body of its own identity record. */
  deviceRecord: "parley/v1/device-record",
  /** A homeserver attests a device record body: "I sponsor this device as this user". */
  deviceAttestation: "parley/v1/device-attestation",
  /** A device, or its homeserver, revokes the device for good. */
  deviceRevocation: "parley/v1/device-revocation",
  /** A homeserver signs its key document. */
  serverKeyDocument: "parley/v1/server-key-document",
  /** Each side of a server-to-server link signs the handshake transcript (docs/protocol.md §12.10.3). */
  linkHandshake: "parley/v1/link-handshake",
  /** A room's sponsor vouches for a control log prefix: (room, index, chain hash) (docs/protocol.md §12.6.1). */
  controlCertificate: "parley/v1/control-certificate",
} as const;

export type SignatureContext = (typeof signatureContexts)[keyof typeof signatureContexts];

const contextBytes = new Map<string, Uint8Array>(
  Object.values(signatureContexts).map((context) => [
    context,
    new TextEncoder().encode(`${context}\0`),
  ]),
);

/** The exact bytes signed for `context` over `canonicalBytes`. */
export function signedMessage(context: SignatureContext, canonicalBytes: Uint8Array): Uint8Array {
  const prefix = contextBytes.get(context);
  if (prefix === undefined) throw new ParleyError("invalid_argument", `unknown context ${context}`);
  return concatBytes(prefix, canonicalBytes);
}

export function signInContext(
  provider: SignatureProvider,
  keyPair: KeyPair,
  context: SignatureContext,
  canonicalBytes: Uint8Array,
): Uint8Array {
  return provider.sign(keyPair, signedMessage(context, canonicalBytes));
}

/**
 * Verifies a signature made with `signInContext`. False for a wrongly sized
 * key or signature, or a weak key: data from a peer can be any size, so this
 * answers rather than throws.
 */
export function verifyInContext(
  provider: SignatureProvider,
  publicKey: Uint8Array,
  context: SignatureContext,
  canonicalBytes: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== publicKeyBytes || signature.length !== signatureBytes) return false;
  if (!isAcceptablePublicKey(publicKey)) return false;
  return provider.verify(publicKey, signedMessage(context, canonicalBytes), signature);
}
