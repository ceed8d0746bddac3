import { serverOfUser, type UserId } from "@parley/protocol";
import type { RoomRejectionCode } from "./decision.ts";
import { isAtLeast } from "./roles.ts";
import { isServerAllowed } from "./server-acl.ts";
import type { RoomState } from "./state.ts";

export type MessageVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: RoomRejectionCode; readonly reason: string };

/**
 * May `sender` post in the message lane under `state`? A sponsor asks this
 * with the state it has applied and stamps the accepted message with that
 * index, so any server can ask the same question later, at the same index,
 * and reach the same answer: a ban takes effect from its index on, everywhere.
 */
export function authorizeMessage(state: RoomState, sender: UserId): MessageVerdict {
  const record = state.members.get(sender);
  if (record?.membership === "banned") {
    return { allowed: false, code: "banned", reason: "the sender is banned" };
  }
  if (record?.membership !== "joined") {
    return { allowed: false, code: "not_member", reason: "the sender has not joined the room" };
  }
  if (!isServerAllowed(state.serverAcl, serverOfUser(sender))) {
    return { allowed: false, code: "server_denied", reason: "the sender's server is denied" };
  }
  if (!isAtLeast(record.role, state.permissions.post)) {
    return {
      allowed: false,
      code: "forbidden",
      reason: `posting needs the ${state.permissions.post} role`,
    };
  }
  return { allowed: true };
}

/** May `reader` read the room's history and live messages? Joined members only. */
export function mayRead(state: RoomState, reader: UserId): boolean {
  return (
    state.members.get(reader)?.membership === "joined" &&
    isServerAllowed(state.serverAcl, serverOfUser(reader))
  );
}
