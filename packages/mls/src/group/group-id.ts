import {
  concatBytes,
  equalBytes,
  ParleyError,
  type RoomId,
  roomIdBytesOf,
  roomIdFromBytes,
} from "@parley/protocol";

const prefix = new TextEncoder().encode("parley/v1/mls/");
const roomIdBytes = 16;
const generationBytes = 4;

/**
 * The MLS group id of a room (RFC 9420 §8.1 leaves its form to the
 * application):
 *
 *     UTF-8("parley/v1/mls/") || 16 room id bytes || generation (uint32, big-endian)
 *
 * Derived, not random, so sponsors and members can check that a message
 * belongs to the room it is filed under. The generation starts at 0 and
 * grows only if a room ever has to start a new MLS group (the last-resort
 * recovery when no member can process an ordered commit, see docs/protocol.md, chapter 13),
 * so the new group never shares an id with the old one.
 */
export function groupIdOf(roomId: RoomId, generation = 0): Uint8Array {
  if (!Number.isSafeInteger(generation) || generation < 0 || generation > 0xffff_ffff) {
    throw new ParleyError("invalid_argument", "a group generation is a uint32");
  }
  const tail = new Uint8Array(generationBytes);
  new DataView(tail.buffer).setUint32(0, generation);
  return concatBytes(prefix, roomIdBytesOf(roomId), tail);
}

export interface GroupIdParts {
  readonly roomId: RoomId;
  readonly generation: number;
}

/** The room and generation of a Parley group id, or undefined for any other bytes. */
export function groupIdParts(groupId: Uint8Array): GroupIdParts | undefined {
  if (groupId.length !== prefix.length + roomIdBytes + generationBytes) return undefined;
  if (!equalBytes(groupId.subarray(0, prefix.length), prefix)) return undefined;
  const room = groupId.slice(prefix.length, prefix.length + roomIdBytes);
  const view = new DataView(groupId.buffer, groupId.byteOffset, groupId.byteLength);
  return { roomId: roomIdFromBytes(room), generation: view.getUint32(prefix.length + roomIdBytes) };
}
