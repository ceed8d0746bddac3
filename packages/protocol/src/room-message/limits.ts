/**
 * Bounds of room messages. They are protocol: a peer or a client must respect
 * them too, and docs/protocol.md repeats them.
 */
import type { DecodeLimits } from "../limits.ts";

/**
 * Body bytes of one message: 64 KiB holds a long chat message with formatting
 * and small inline data. Files travel separately (encrypted, by reference), so
 * nothing legitimate needs more, and a bound this size keeps one message's
 * fan-out to a few hundred receivers cheap.
 */
export const roomMessageBodyBytesMax = 64 * 1024;

/**
 * A content type is MIME-like ("text/plain; charset=utf-8"); 255 bytes is the
 * room package's bound for the room's own content type, and a message must
 * carry exactly the room's.
 */
export const roomMessageContentTypeBytesMax = 255;

/**
 * A client-chosen id: 1 to 64 characters of the URL-safe alphabet, so it can
 * appear in paths and logs without escaping. 64 holds a UUID or a 256-bit
 * random value in base64url.
 */
export const roomMessageClientIdLengthMax = 64;
export const roomMessageClientIdPattern = /^[A-Za-z0-9._~-]{1,64}$/;

/** Everything around the body (ids, content type, signature, field names) fits in 1 KiB. */
const envelopeOverheadBytes = 1024;

/** The signed map alone: the form homeservers store and deliver. */
export const roomMessageSignedDecodeLimits: DecodeLimits = {
  totalBytesMax: roomMessageBodyBytesMax + envelopeOverheadBytes,
  depthMax: 2,
  containerItemsMax: 8,
  stringBytesMax: roomMessageBodyBytesMax,
};

/** The envelope: the signed map and the signature, one level deeper. */
export const roomMessageDecodeLimits: DecodeLimits = {
  ...roomMessageSignedDecodeLimits,
  depthMax: 3,
};
