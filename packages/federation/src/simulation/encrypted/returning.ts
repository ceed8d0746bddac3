// Users coming back into the encrypted room in the simulation: a user who
// left or was kicked is invited again by the creator (a commit adding its
// devices with fresh KeyPackages; they join from the Welcome and the user
// accepts), or, while the room's join rule is `open`, joins by itself with an
// external commit from the GroupInfo and tree the sponsors hold (§10.13),
// its other devices following by their own external commits. A device whose
// user is in the room but which is in no group and has nothing under way
// rejoins, as the SDK does when it starts.

import type { UserId } from "@parley/protocol";
import type { RoomState } from "@parley/room";
import type { SimulatedUser } from "../workload.ts";
import { devicesOf, type EncryptedWorld, firstDeviceOf } from "./encrypted-world.ts";
import { startRejoin } from "./rejoin.ts";

/** The room state as the user's own server has applied it (undefined while it is down). */
function stateAt(encrypted: EncryptedWorld, user: SimulatedUser): RoomState | undefined {
  const room = encrypted.world.room;
  return room === null ? undefined : user.server.host?.session(room)?.replica.state;
}

/** Whether the creator already means to invite `user` (a wish not yet made or not yet ordered). */
function inviting(encrypted: EncryptedWorld, creator: UserId, user: UserId): boolean {
  const device = firstDeviceOf(encrypted, creator);
  const wishes = [...device.wishes, ...device.submitted.map((each) => each.wish)];
  return wishes.some((wish) => wish.action.type === "invite" && wish.action.target === user);
}

/** The users out of the room (left or kicked) as the creator's server sees it. */
export function usersAway(encrypted: EncryptedWorld, creator: SimulatedUser): SimulatedUser[] {
  const state = stateAt(encrypted, creator);
  return encrypted.world.workload.users.filter(
    (user) => state?.members.get(user.user)?.membership === "left",
  );
}

/**
 * The user comes back if it is out of the room (left or kicked) with nothing
 * under way: by an external `join` when the room is open (or when `open`
 * asks the creator to open it first), else by the creator's invite.
 */
export function comeBack(
  encrypted: EncryptedWorld,
  user: SimulatedUser,
  creator: SimulatedUser,
  open: boolean,
): void {
  const room = encrypted.world.room;
  const state = stateAt(encrypted, user);
  if (room === null || state?.members.get(user.user)?.membership !== "left") return;
  const devices = devicesOf(encrypted, user.user).filter((device) => !device.revoked);
  const busy = devices.some((device) => device.member !== null || device.rejoin !== null);
  const [first] = devices;
  if (busy || first === undefined || inviting(encrypted, creator.user, user.user)) return;
  if (state.joinRule === "open" || open) {
    if (state.joinRule !== "open") {
      encrypted.world.workload.propose(room, creator, { type: "set-join-rule", joinRule: "open" });
    }
    startRejoin(first, "join", encrypted.world.scheduler.nowMs());
    return;
  }
  firstDeviceOf(encrypted, creator.user).wishes.push({
    action: { type: "invite", target: user.user },
    add: devices,
    attempts: 0,
  });
}

/**
 * Invited users whose devices are in the group accept the invite, at most
 * once per `gapMs` each (the proposal may be lost in the faults).
 */
export function acceptInvites(
  encrypted: EncryptedWorld,
  lastProposedMs: Map<UserId, number>,
  gapMs: number,
): void {
  const { world } = encrypted;
  const room = world.room;
  if (room === null) return;
  const now = world.scheduler.nowMs();
  for (const user of world.workload.users) {
    if (stateAt(encrypted, user)?.members.get(user.user)?.membership !== "invited") continue;
    if (!devicesOf(encrypted, user.user).some((device) => device.member !== null)) continue;
    if (now - (lastProposedMs.get(user.user) ?? Number.NEGATIVE_INFINITY) < gapMs) continue;
    lastProposedMs.set(user.user, now);
    world.workload.propose(room, user, { type: "join" });
  }
}

/**
 * A device of a joined user, caught up with its server's log, that is in no
 * group and is neither revoked nor rejoining, rejoins by external commit.
 */
export function rejoinStranded(encrypted: EncryptedWorld): void {
  const room = encrypted.world.room;
  if (room === null) return;
  for (const user of encrypted.world.workload.users) {
    const replica = user.server.host?.session(room)?.replica;
    if (replica?.state?.members.get(user.user)?.membership !== "joined") continue;
    for (const device of devicesOf(encrypted, user.user)) {
      if (device.revoked || device.member !== null || device.rejoin !== null) continue;
      if (device.processedIndex !== replica.appliedIndex) continue;
      startRejoin(device, "mls-commit");
    }
  }
}
