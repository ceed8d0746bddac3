import type { UserId } from "@parley/protocol";
import type { ControlEntry, Membership, RoomState } from "@parley/room";
import { decodeControlRecord } from "../control-lane/control-record.ts";
import type { AppliedRecord, RoomReplica } from "../control-lane/room-replica.ts";
import type { FederationEvent, MembershipChange } from "./effects.ts";

/** The users an entry can change: its actor and, for targeted actions, the target. */
function touchedUsers(entry: ControlEntry): UserId[] {
  const users: UserId[] = [];
  if (entry.actor.type === "user") users.push(entry.actor.user);
  const action = entry.action;
  if ("target" in action && !users.includes(action.target)) users.push(action.target);
  return users;
}

function membershipOf(state: RoomState | undefined, user: UserId): Membership | "none" {
  return state?.members.get(user)?.membership ?? "none";
}

/**
 * Applies one record to `replica` and reports it as a `control-applied`
 * event with the membership changes it made. The state's member map is a
 * live view (room package), so memberships are read here, right before and
 * right after the record applies, not later by the event's consumer.
 */
export function applyObserved(
  replica: RoomReplica,
  recordBytes: Uint8Array,
  emit: (event: FederationEvent) => void,
): AppliedRecord {
  const users = touchedUsers(decodeControlRecord(recordBytes).entry);
  const before = users.map((user) => membershipOf(replica.state, user));
  const applied = replica.apply(recordBytes);
  const memberships: MembershipChange[] = [];
  users.forEach((user, position) => {
    const after = replica.state?.members.get(user)?.membership;
    const previous = before[position] ?? "none";
    if (after !== undefined && after !== previous) {
      memberships.push({ user, before: previous, after });
    }
  });
  emit({
    type: "control-applied",
    room: replica.room,
    index: applied.index,
    record: applied.record,
    outcome: applied.outcome,
    chainHash: applied.at.chainHash,
    memberships,
    roomName: replica.state?.name ?? "",
  });
  return applied;
}
