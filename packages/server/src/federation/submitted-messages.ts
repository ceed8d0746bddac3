// A leaf's message submission checked at the sponsor's edge, before the core
// stamps it (docs/protocol.md §12.7): the body must be a room message of the
// submission's room whose device signature verifies. The sponsor is the last
// server that can refuse a bad body before it is stored and forwarded to
// every server of the room (each of which would refuse it again on receipt,
// §12.13); the submitting server checked its own user's message already, so
// a body that fails here is that server's fault. Which user a device belongs
// to is its device identity record's to say, which sponsors do not hold.

import type { RefusalCode } from "@parley/federation";
import {
  isParleyError,
  type RoomId,
  type SignatureProvider,
  type VerifiedRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import { type PreverifiedSignatures, preverifyRoomMessage } from "../verification/preverified.ts";
import type { SignaturePool } from "../verification/signature-pool.ts";

export interface SubmittedMessageRefusal {
  readonly code: RefusalCode;
  readonly reason: string;
}

/** Checks a submitted body; null when it may be stamped. */
export type SubmittedMessageCheck = (
  room: RoomId,
  body: Uint8Array,
) => Promise<SubmittedMessageRefusal | null>;

export interface SubmittedMessageDependencies {
  readonly provider: SignatureProvider;
  readonly pool: SignaturePool;
  readonly preverified: PreverifiedSignatures;
  /** Told of each body that passed, so projecting it later does not verify it again. */
  readonly verified: (body: Uint8Array, message: VerifiedRoomMessage) => void;
}

export function submittedMessageCheck(
  dependencies: SubmittedMessageDependencies,
): SubmittedMessageCheck {
  return async (room, body) => {
    let message: VerifiedRoomMessage;
    try {
      await preverifyRoomMessage(body, dependencies.pool, dependencies.preverified);
      message = verifyRoomMessage(dependencies.provider, body);
    } catch (error) {
      // A saturated pool is this server's state, not the body's fault: the leaf repeats it.
      if (isParleyError(error) && error.code === "unavailable") {
        return { code: "unavailable", reason: "signature checks are saturated; retry" };
      }
      const detail = isParleyError(error)
        ? `${error.code}: ${error.message}`
        : "it does not decode";
      return {
        code: "signature_invalid",
        reason: `the body is not a valid room message (${detail})`,
      };
    }
    if (message.roomId !== room) {
      return { code: "signature_invalid", reason: "the body is signed for another room" };
    }
    dependencies.verified(body, message);
    return null;
  };
}
