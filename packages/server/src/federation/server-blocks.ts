// The operator's server block list (administration/server-block-list.ts) at
// the federation edge, for every transport: nothing is sent to a blocked
// server and nothing it sends is handled (the link manager also refuses its
// handshakes), and this server proposes no entry that would bring a blocked
// server's user into a room (an invite) or the server itself into the
// sponsor set — whether a local user or another server's user asks.

import type { SubmitFrame, SubmitResultFrame } from "@parley/federation";
import { ParleyError, type ServerName, serverOfUser } from "@parley/protocol";
import { type ControlEntry, decodeControlEntry } from "@parley/room";
import type { FederationTransport } from "./driver/federation-transport.ts";

export type IsBlocked = (server: ServerName) => boolean;

/** Why this server will not propose `entry`, or null when nothing in it is blocked. */
export function blockedParticipant(entry: ControlEntry, isBlocked: IsBlocked): string | null {
  const action = entry.action;
  if (action.type === "invite" && isBlocked(serverOfUser(action.target))) {
    return `the homeserver of ${action.target} is blocked by this server`;
  }
  if (action.type === "add-sponsor" && isBlocked(action.server)) {
    return `the homeserver ${action.server} is blocked by this server`;
  }
  return null;
}

/** Throws `forbidden` when `entry` would bring in a blocked server or its user. */
export function refuseBlockedParticipant(entry: ControlEntry, isBlocked: IsBlocked): void {
  const reason = blockedParticipant(entry, isBlocked);
  if (reason !== null) throw new ParleyError("forbidden", reason);
}

/**
 * The refusal of another server's control submission that names a blocked
 * participant, or null to hand it to the core. An entry that does not decode
 * is left to the core, which refuses it with its own code.
 */
export function refusalOfSubmission(
  frame: SubmitFrame,
  isBlocked: IsBlocked,
): SubmitResultFrame | null {
  if (frame.submission.kind !== "control") return null;
  let entry: ControlEntry;
  try {
    entry = decodeControlEntry(frame.submission.entry);
  } catch {
    return null;
  }
  const reason = blockedParticipant(entry, isBlocked);
  if (reason === null) return null;
  return {
    type: "submit-result",
    room: frame.room,
    requestId: frame.requestId,
    outcome: { kind: "refused", code: "forbidden", reason },
  };
}

/** `transport` that neither dials nor sends to a blocked server (frames to it are dropped). */
export function withoutBlockedServers<Transport extends FederationTransport>(
  transport: Transport,
  isBlocked: IsBlocked,
): FederationTransport {
  return {
    connect(peer) {
      if (!isBlocked(peer)) transport.connect(peer);
    },
    async send(peer, bytes, delivery) {
      if (!isBlocked(peer)) await transport.send(peer, bytes, delivery);
    },
    isUp: (peer) => !isBlocked(peer) && transport.isUp(peer),
  };
}
