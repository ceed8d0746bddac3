// The room package's memberships in the storage membership index's words.

import type { Membership as RoomMembership } from "@parley/room";
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
