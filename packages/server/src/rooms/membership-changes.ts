// Translating applied room state into the storage membership index and into
// the notices and stream updates that follow a control entry.

import type { UserId } from "@parley/protocol";
import type { RoomAction, Membership as RoomMembership, RoomState } from "@parley/room";
import type { Membership as StoredMembership } from "../storage/records.ts";

const storedMembershipOf: Readonly<Record<RoomMembership, StoredMembership>> = {
  invited: "invite",
  joined: "join",
  knocking: "knock",
  left: "leave",
  banned: "ban",
};

export function toStoredMembership(membership: RoomMembership): StoredMembership {
  return storedMembershipOf[membership];
}

export interface MembershipChange {
  readonly user: UserId;
  readonly before: RoomMembership | "none";
  readonly after: RoomMembership;
}

/** The users an action can change: its actor and, for targeted actions, the target. */
export function touchedUsers(actor: UserId, action: RoomAction): UserId[] {
  const target = "target" in action ? action.target : undefined;
  return target === undefined || target === actor ? [actor] : [actor, target];
}

export function membershipsOf(
  state: RoomState | undefined,
  users: readonly UserId[],
): Map<UserId, RoomMembership | "none"> {
  return new Map(users.map((user) => [user, state?.members.get(user)?.membership ?? "none"]));
}

/** Users whose membership differs between `before` and the applied `after` state. */
export function membershipChanges(
  before: ReadonlyMap<UserId, RoomMembership | "none">,
  after: RoomState,
): MembershipChange[] {
  const changes: MembershipChange[] = [];
  for (const [user, previous] of before) {
    const now = after.members.get(user)?.membership;
    if (now !== undefined && now !== previous) changes.push({ user, before: previous, after: now });
  }
  return changes;
}
