import { concatBytes } from "../codec/bytes.ts";
import { sha256 } from "../crypto/hashing.ts";
import type { RoomId } from "../identifiers/room-id.ts";

const chainLabel = new TextEncoder().encode("parley control chain v1");
const encoder = new TextEncoder();

/**
 * The chain hash before the first record of a room's control log
 * (docs/protocol.md §12.6): SHA-256("parley control chain v1" 0x00 room).
 * Binding the room in keeps two rooms' chains apart.
 */
export function genesisChainHash(room: RoomId): Uint8Array {
  return sha256(concatBytes(chainLabel, new Uint8Array([0]), encoder.encode(room)));
}

/**
 * The chain hash after a record: SHA-256(previous chain hash || record
 * bytes). Each record thereby names the whole prefix before it, so one
 * certificate over (room, index, chain hash) vouches for the whole log up to
 * that index (§12.6.1).
 */
export function nextChainHash(previous: Uint8Array, recordBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(previous, recordBytes));
}
