// The one place where the room state machine's refusal codes meet the
// project-wide error table. Each refusal answers with the table code below
// (which fixes the HTTP status and WebSocket close code) and carries the room
// code itself as `roomCode`, so clients can tell "banned" from "not_member".
// When the room codes join the protocol's table, this map becomes identity.

import { type ErrorCode, ParleyError } from "@parley/protocol";
import type { RoomRejectionCode } from "@parley/room";

/** A refused room action or message: a table code plus the room's own code. */
export class RoomRefusal extends ParleyError {
  readonly roomCode: RoomRejectionCode;

  constructor(code: ErrorCode, roomCode: RoomRejectionCode, message: string) {
    super(code, message);
    this.roomCode = roomCode;
  }
}

const tableCodeOfRefusal: Readonly<Record<RoomRejectionCode, ErrorCode>> = {
  room_not_created: "not_found",
  room_already_created: "conflict",
  forbidden: "forbidden",
  not_member: "forbidden",
  banned: "forbidden",
  already_member: "conflict",
  not_invited: "forbidden",
  invalid_membership_change: "conflict",
  server_denied: "forbidden",
  last_admin: "conflict",
  acl_locks_out_actor: "conflict",
  acl_denies_sponsor: "conflict",
  sponsor_limit_reached: "capacity_exceeded",
  not_sponsor: "forbidden",
  members_limit_reached: "capacity_exceeded",
  invalid_entry: "bad_structure",
  mls_stale_epoch: "mls_stale_epoch",
  mls_rule_violation: "mls_rule_violation",
};

export function tableCodeOf(roomCode: RoomRejectionCode): ErrorCode {
  return tableCodeOfRefusal[roomCode];
}

export function roomRefusal(roomCode: RoomRejectionCode, reason: string): RoomRefusal {
  return new RoomRefusal(tableCodeOfRefusal[roomCode], roomCode, reason);
}

/** True for the room state machine's own refusal codes (as opposed to the table's). */
export function isRoomRejectionCode(code: string): code is RoomRejectionCode {
  return Object.hasOwn(tableCodeOfRefusal, code);
}
