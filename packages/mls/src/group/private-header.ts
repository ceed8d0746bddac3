import type { RoomId } from "@parley/protocol";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { groupIdParts } from "./group-id.ts";
import { decodeWire } from "./wire.ts";

/** What a server can read of a PrivateMessage without any key (RFC 9420 §6.3). */
export interface PrivateMessageHeader {
  readonly roomId: RoomId;
  readonly generation: number;
  readonly epoch: bigint;
  readonly contentType: "application" | "proposal" | "commit";
  readonly authenticatedDataBytes: number;
}

/**
 * The unencrypted header of a PrivateMessage, for a server that stores and
 * forwards application messages of a room it cannot read: which room's group
 * (by the derived group id), which epoch, which content type.
 */
export function readPrivateMessageHeader(
  bytes: Uint8Array,
  bytesMax?: number,
): { readonly kind: "header"; readonly header: PrivateMessageHeader } | MlsFailure {
  const decoded = decodeWire(bytes, "mls_private_message", bytesMax);
  if (decoded.kind === "failed") return decoded;
  const message = decoded.value;
  const parts = groupIdParts(message.groupId);
  if (parts === undefined) return mlsFailure("mls_wrong_group", "not a Parley room's group id");
  return {
    kind: "header",
    header: {
      roomId: parts.roomId,
      generation: parts.generation,
      epoch: message.epoch,
      contentType: message.contentType,
      authenticatedDataBytes: message.authenticatedData.length,
    },
  };
}
