import { decodeBase64url, encodeBase64url } from "../codec/base64url.ts";
import { ParleyError } from "../errors/parley-error.ts";

declare const roomIdBrand: unique symbol;

/**
 * A room's id: "!" and 16 bytes in base64url (22 characters), e.g.
 * `!a8Lr3kQ0TmWb9cZyXv1uJg`. It names no server: sponsors change over a
 * room's life, so the id must not depend on any of them. 128 random bits make
 * a collision negligible without any coordination.
 */
export type RoomId = string & { readonly [roomIdBrand]: true };

export const roomIdBytes = 16;
const roomIdLength = 1 + 22;

/** Source of random bytes, injected so simulations stay deterministic. */
export type RandomBytes = (length: number) => Uint8Array;

export function roomIdFromBytes(bytes: Uint8Array): RoomId {
  if (bytes.length !== roomIdBytes) {
    throw new ParleyError("invalid_argument", `a room id is made of ${roomIdBytes} bytes`);
  }
  return `!${encodeBase64url(bytes)}` as RoomId;
}

/** A fresh room id from `randomBytes`, which must be a cryptographic source outside tests. */
export function generateRoomId(randomBytes: RandomBytes): RoomId {
  return roomIdFromBytes(randomBytes(roomIdBytes));
}

export function parseRoomId(text: string): RoomId {
  if (text.length !== roomIdLength || !text.startsWith("!")) {
    throw new ParleyError("bad_room_id", "a room id is ! and 22 base64url characters");
  }
  try {
    decodeBase64url(text.slice(1));
  } catch (cause) {
    throw new ParleyError("bad_room_id", "a room id is ! and canonical base64url", { cause });
  }
  return text as RoomId;
}

export function roomIdBytesOf(roomId: RoomId): Uint8Array {
  return decodeBase64url(roomId.slice(1));
}
