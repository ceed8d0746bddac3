// A leaf's message submission checked at the sponsor's edge, before the core
// stamps it (docs/protocol.md §12.7): the body must be a room message of the
// submission's room whose device signature verifies. The sponsor is the last
// server that can refuse a bad body before it is stored and forwarded to
// every server of the room (each of which would refuse it again on receipt,
// §12.13); the submitting server checked its own user's message already, so
// a body that fails here is that server's fault. In an encrypted room the
// body must also be a well-framed PrivateMessage of the room's group in the
// epoch window (§10.13). Which user a device belongs
// to is its homeserver's to say: the sender's device list (§12.14) must bind
// the signing device to the sender and not have revoked it.

import type { RefusalCode } from "@parley/federation";
import {
  isParleyError,
  type RoomId,
  type SignatureProvider,
  type UserId,
  type VerifiedRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import { type PreverifiedSignatures, preverifyRoomMessage } from "../verification/preverified.ts";
import type { SignaturePool } from "../verification/signature-pool.ts";
import type { DeviceDirectory } from "./device-directory.ts";

export interface SubmittedMessageRefusal {
  readonly code: RefusalCode;
  readonly reason: string;
}

/** Checks a submitted body; null when it may be stamped. */
export type SubmittedMessageCheck = (
  room: RoomId,
  body: Uint8Array,
  sender: UserId,
) => Promise<SubmittedMessageRefusal | null>;

export interface SubmittedMessageDependencies {
  readonly provider: SignatureProvider;
  readonly pool: SignaturePool;
  readonly preverified: PreverifiedSignatures;
  /** Told of each body that passed, so projecting it later does not verify it again. */
  readonly verified: (body: Uint8Array, message: VerifiedRoomMessage) => void;
  /** Whose devices are whose; without it, the device is not checked against the sender. */
  readonly devices?: DeviceDirectory;
  /** The room's own rules for a body (an encrypted room's MLS framing, §10.13); null when it passes. */
  readonly framing?: (room: RoomId, message: VerifiedRoomMessage) => SubmittedMessageRefusal | null;
  readonly nowMs: () => number;
}

export function submittedMessageCheck(
  dependencies: SubmittedMessageDependencies,
): SubmittedMessageCheck {
  return async (room, body, sender) => {
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
    const framed = dependencies.framing?.(room, message) ?? null;
    if (framed !== null) return framed;
    const refusal = await deviceRefusal(dependencies, sender, message);
    if (refusal !== null) return refusal;
    dependencies.verified(body, message);
    return null;
  };
}

/** Null when the sender's homeserver binds the device to the sender and has not revoked it. */
async function deviceRefusal(
  dependencies: SubmittedMessageDependencies,
  sender: UserId,
  message: VerifiedRoomMessage,
): Promise<SubmittedMessageRefusal | null> {
  if (dependencies.devices === undefined) return null;
  const verdict = await dependencies.devices.check(sender, message.deviceId, dependencies.nowMs());
  if (verdict.kind === "bound") return null;
  if (verdict.kind === "unknown") {
    return { code: "unavailable", reason: `the device list of ${sender} cannot be had now; retry` };
  }
  const reason =
    verdict.code === "device_revoked"
      ? `the device ${message.deviceId} was revoked`
      : `${sender}'s homeserver does not vouch for the device ${message.deviceId}`;
  return { code: verdict.code, reason };
}
