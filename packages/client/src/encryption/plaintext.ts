// What an encrypted room's PrivateMessage holds (docs/protocol.md §10.13,
// "The plaintext inside"): the message's real content type and body, so the
// server sees neither.
//
//     canonical CBOR { "body": bytes, "contentType": text, "version": 1 }

import { decodeCanonical, encodeCanonical, ParleyError } from "@parley/protocol";

const plaintextVersion = 1;
/** The MLS layer's plaintext bound (256 KiB) with room for the map around the body. */
const plaintextBytesMax = 256 * 1024;
const contentTypeBytesMax = 255;

export interface MessagePlaintext {
  readonly contentType: string;
  readonly body: Uint8Array;
}

export function encodePlaintext(message: MessagePlaintext): Uint8Array {
  return encodeCanonical({
    body: message.body,
    contentType: message.contentType,
    version: plaintextVersion,
  });
}

export function decodePlaintext(bytes: Uint8Array): MessagePlaintext {
  const value = decodeCanonical(bytes, {
    totalBytesMax: plaintextBytesMax,
    depthMax: 1,
    containerItemsMax: 3,
    stringBytesMax: plaintextBytesMax,
  });
  const fields = value as { body?: unknown; contentType?: unknown; version?: unknown };
  if (
    typeof value !== "object" ||
    value === null ||
    value instanceof Uint8Array ||
    Array.isArray(value) ||
    fields.version !== plaintextVersion ||
    !(fields.body instanceof Uint8Array) ||
    typeof fields.contentType !== "string" ||
    fields.contentType.length === 0 ||
    new TextEncoder().encode(fields.contentType).length > contentTypeBytesMax
  ) {
    throw new ParleyError("bad_structure", "an encrypted message's plaintext has a wrong shape");
  }
  return { contentType: fields.contentType, body: fields.body };
}
