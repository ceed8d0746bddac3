/**
 * The signed envelope of a message in a plain room (docs/protocol.md, "Room
 * messages"). The sending device signs, in its own signature context, a
 * canonical CBOR map naming the room, the content type, the body bytes, a
 * client-chosen id, the device id and the time the device sent it:
 *
 *     signed bytes = canonical CBOR {version, roomId, contentType, body,
 *                                    clientId, deviceId, sentAtMs}
 *     signature    = Ed25519(device key,
 *                            UTF-8("parley/v1/room-message") || 0x00 || signed bytes)
 *     envelope     = canonical CBOR {message: <that map>, signature}
 *
 * The device id is the device's public key, so the envelope verifies by
 * itself: no key lookup is needed, only the caller's check that the device
 * belongs to the sender it claims (a homeserver checks the session; a peer
 * checks the device identity record).
 *
 * Homeservers store the signed bytes and the signature and hand both to
 * readers unchanged, so every reader can verify every message.
 */
import { decodeBase64url } from "../codec/base64url.ts";
import { concatBytes } from "../codec/bytes.ts";
import { encodeCanonical, encodeChecked } from "../codec/encode.ts";
import type { CborMap } from "../codec/value.ts";
import { isAcceptablePublicKey } from "../crypto/public-key.ts";
import type { KeyPair, SignatureProvider } from "../crypto/signature-provider.ts";
import { publicKeyBytes, signatureBytes } from "../crypto/signature-provider.ts";
import { checkCallerInput, ParleyError } from "../errors/parley-error.ts";
import { type DeviceId, deviceIdFromPublicKey, parseDeviceId } from "../identifiers/device-id.ts";
import { parseRoomId, type RoomId } from "../identifiers/room-id.ts";
import { decodeStructure, parseStructure } from "../validation/structure.ts";
import { roomMessageDecodeLimits, roomMessageSignedDecodeLimits } from "./limits.ts";
import { type RoomMessageWire, roomMessageEnvelopeSchema, roomMessageSchema } from "./schema.ts";

/** The signature context of room messages; see contexts.ts for the scheme. */
export const roomMessageSignatureContext = "parley/v1/room-message";

const contextPrefix = new TextEncoder().encode(`${roomMessageSignatureContext}\0`);

/** What a device fills in to send a message. */
export interface RoomMessageFields {
  readonly roomId: RoomId;
  /** The room's content type, fixed when the room was created. */
  readonly contentType: string;
  readonly body: Uint8Array;
  /** Chosen by the client, unique per device and room: a retry reuses it. */
  readonly clientId: string;
  /** The device's clock when it sent the message; informational only. */
  readonly sentAtMs: number;
}

declare const verifiedBrand: unique symbol;

/** A room message whose envelope decoded and whose signature verified. Only the functions below make one. */
export type VerifiedRoomMessage = VerifiedRoomMessageFields & { readonly [verifiedBrand]: true };

export interface VerifiedRoomMessageFields {
  readonly roomId: RoomId;
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly clientId: string;
  readonly deviceId: DeviceId;
  readonly sentAtMs: number;
  /** The exact bytes the device signed: store and forward these unchanged. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

/** The exact bytes a device signs for `signedBytes`. */
export function roomMessageSignedMessage(signedBytes: Uint8Array): Uint8Array {
  return concatBytes(contextPrefix, signedBytes);
}

/**
 * Device side: builds, signs and encodes a message envelope. Throws
 * `invalid_argument` for fields that break the rules (a bug in the caller).
 */
export function signRoomMessage(
  provider: SignatureProvider,
  deviceKeyPair: KeyPair,
  fields: RoomMessageFields,
): Uint8Array {
  const message: RoomMessageWire = {
    version: 1,
    roomId: fields.roomId,
    contentType: fields.contentType,
    body: fields.body,
    clientId: fields.clientId,
    deviceId: deviceIdFromPublicKey(deviceKeyPair.publicKey),
    sentAtMs: fields.sentAtMs,
  };
  checkCallerInput("room message", () =>
    checkRoomMessage(parseStructure(roomMessageSchema, message, "room message")),
  );
  const signedBytes = encodeCanonical(message as unknown as CborMap);
  const signature = provider.sign(deviceKeyPair, roomMessageSignedMessage(signedBytes));
  return encodeChecked({ message: message as unknown as CborMap, signature });
}

/**
 * Decodes an envelope and verifies its signature under the key its device id
 * names. Throws `payload_too_large` or `bad_encoding` for bytes that are not a
 * canonical envelope within the limits, `bad_structure`, `bad_room_id` or
 * `bad_device_id` for a malformed message, and `signature_invalid` when the
 * signature does not verify. Checks are ordered cheapest first.
 */
export function verifyRoomMessage(
  provider: SignatureProvider,
  envelopeBytes: Uint8Array,
): VerifiedRoomMessage {
  const envelope = decodeStructure(
    envelopeBytes,
    roomMessageDecodeLimits,
    roomMessageEnvelopeSchema,
    "room message envelope",
  );
  const { message, signature } = envelope;
  const checked = checkRoomMessage(message);
  const signedBytes =
    messageBytesWithin(envelopeBytes) ?? encodeChecked(message as unknown as CborMap);
  return verified(provider, { ...checked, signedBytes, signature });
}

// A canonical envelope `{message, signature}` is laid out as: a two-entry map
// header, the text key "message" (it sorts first), the message map, the text
// key "signature" and a 64-byte byte string. So the message map, which is
// what the device signed, is the envelope's middle, and the verifier need
// not encode it again (that costs as much as the decoding did).
const envelopeHead = new Uint8Array([0xa2, 0x67, ...new TextEncoder().encode("message")]);
const envelopeTail = new Uint8Array([0x69, ...new TextEncoder().encode("signature"), 0x58, 0x40]);
const envelopeTailBytes = envelopeTail.length + signatureBytes;

/** The message map's bytes inside an envelope that decoded canonically, or null if laid out otherwise. */
function messageBytesWithin(envelopeBytes: Uint8Array): Uint8Array | null {
  const tailStart = envelopeBytes.length - envelopeTailBytes;
  if (tailStart <= envelopeHead.length) return null;
  for (let index = 0; index < envelopeHead.length; index += 1) {
    if (envelopeBytes[index] !== envelopeHead[index]) return null;
  }
  for (let index = 0; index < envelopeTail.length; index += 1) {
    if (envelopeBytes[tailStart + index] !== envelopeTail[index]) return null;
  }
  return envelopeBytes.subarray(envelopeHead.length, tailStart);
}

/**
 * Reader side: verifies a stored message given as its signed bytes and
 * signature (the form homeservers deliver) and returns its fields.
 */
export function verifyStoredRoomMessage(
  provider: SignatureProvider,
  signedBytes: Uint8Array,
  signature: Uint8Array,
): VerifiedRoomMessage {
  const message = decodeStructure(
    signedBytes,
    roomMessageSignedDecodeLimits,
    roomMessageSchema,
    "room message",
  );
  return verified(provider, { ...checkRoomMessage(message), signedBytes, signature });
}

function verified(
  provider: SignatureProvider,
  fields: VerifiedRoomMessageFields,
): VerifiedRoomMessage {
  const publicKey = decodeBase64url(fields.deviceId);
  if (
    fields.signature.length !== signatureBytes ||
    publicKey.length !== publicKeyBytes ||
    !isAcceptablePublicKey(publicKey) ||
    !provider.verify(publicKey, roomMessageSignedMessage(fields.signedBytes), fields.signature)
  ) {
    throw new ParleyError("signature_invalid", "the room message signature does not verify");
  }
  return fields as VerifiedRoomMessage;
}

/** The rules beyond the schema's shape: identifiers in canonical form. */
function checkRoomMessage(
  message: RoomMessageWire,
): Omit<VerifiedRoomMessageFields, "signedBytes" | "signature"> {
  return {
    roomId: parseRoomId(message.roomId),
    contentType: message.contentType,
    body: message.body,
    clientId: message.clientId,
    deviceId: parseDeviceId(message.deviceId),
    sentAtMs: message.sentAtMs,
  };
}
