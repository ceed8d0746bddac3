// The control log is a hash chain: each entry's hash covers the room, its
// index, the previous entry's hash and its own canonical bytes, so a sponsor
// that signs (room, index, chain hash) vouches for the whole prefix:
//
//     hash(i) = SHA-256( UTF-8("parley/v1/control-chain") || 0x00 ||
//                        room id bytes (16) || index (8 bytes, big-endian) ||
//                        hash(i-1) (32 bytes; 32 zero bytes for i = 1) ||
//                        entry bytes )

import { createHash } from "node:crypto";
import { type RoomId, roomIdBytesOf } from "@parley/protocol";

const chainContext = new TextEncoder().encode("parley/v1/control-chain\0");
const noPreviousHash = new Uint8Array(32);

export function controlChainHash(
  roomId: RoomId,
  index: number,
  previousHash: Uint8Array | null,
  entryBytes: Uint8Array,
): Uint8Array {
  const indexBytes = new Uint8Array(8);
  new DataView(indexBytes.buffer).setBigUint64(0, BigInt(index));
  return new Uint8Array(
    createHash("sha256")
      .update(chainContext)
      .update(roomIdBytesOf(roomId))
      .update(indexBytes)
      .update(previousHash ?? noPreviousHash)
      .update(entryBytes)
      .digest(),
  );
}
