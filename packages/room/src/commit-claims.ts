import type { UserId } from "@parley/protocol";
import type { ControlEntry, MlsDevice } from "./actions.ts";
import type { RoomState } from "./state.ts";

/** What an MLS commit does, as a sponsor reads it from the public group (packages/mls, GroupChange). */
export interface CommitEffect {
  readonly committer: MlsDevice;
  readonly externalJoin: boolean;
  readonly added: readonly MlsDevice[];
  readonly removed: readonly MlsDevice[];
  /** Every device in the group after the commit. */
  readonly devicesAfter: readonly MlsDevice[];
}

/**
 * Does the commit do exactly what the entry's action claims (docs/protocol.md
 * §10.13, §13.8)? Checked by a sponsor before it proposes the entry, against
 * the state it has applied: the committer is the actor; devices are added
 * only for the action's target (invite) or the actor's own user (join,
 * mls-commit); devices are removed only of the action's target (kick, ban),
 * of the actor's own user (mls-commit, a rejoin) or of users gone (neither
 * joined nor invited); and no device of a user gone is left in the group.
 * Returns why not, or null. Whether the room rules allow the action itself is
 * `decide`'s question, asked separately.
 */
export function commitClaimViolation(
  state: RoomState,
  entry: ControlEntry,
  effect: CommitEffect,
): string | null {
  const { actor, action, mls } = entry;
  if (actor.type !== "user" || mls === undefined) return "only a user's entry carries a commit";
  if (effect.committer.user !== actor.user) return "the committer is not the entry's actor";
  const external = action.type === "join" || action.type === "mls-commit";
  if (effect.externalJoin && !external) return `a ${action.type} is not an external commit`;
  if (action.type === "join" && !effect.externalJoin) return "a join carries an external commit";
  const target = "target" in action ? action.target : undefined;
  const present = usersAfter(state, entry);
  const addable = action.type === "invite" ? target : external ? actor.user : undefined;
  for (const device of effect.added) {
    if (device.user !== addable)
      return `adds a device of ${device.user}, whom the action does not name`;
  }
  if (action.type === "invite" && effect.added.length === 0)
    return "an invite adds the invitee's devices";
  for (const device of effect.removed) {
    const own = action.type === "mls-commit" || action.type === "join";
    if (present.has(device.user) && !(own && device.user === actor.user)) {
      return `removes a device of ${device.user}, whom the action does not name`;
    }
  }
  for (const device of effect.devicesAfter) {
    if (!present.has(device.user))
      return `leaves a device of ${device.user}, who is not in the room`;
  }
  if (!sameDevices(mls.added, effect.added))
    return "the entry's added devices are not the commit's";
  return null;
}

/** Users joined or invited once the action applies: whose devices may be in the group. */
function usersAfter(state: RoomState, entry: ControlEntry): Set<UserId> {
  const present = new Set<UserId>();
  for (const [user, record] of state.members) {
    if (record.membership === "joined" || record.membership === "invited") present.add(user);
  }
  const { action, actor } = entry;
  if (action.type === "invite") present.add(action.target);
  if (action.type === "kick" || action.type === "ban") present.delete(action.target);
  if (action.type === "join" && actor.type === "user") present.add(actor.user);
  return present;
}

function sameDevices(left: readonly MlsDevice[], right: readonly MlsDevice[]): boolean {
  const key = (device: MlsDevice) => `${device.user} ${device.device}`;
  const rightKeys = new Set(right.map(key));
  return left.length === right.length && left.every((device) => rightKeys.has(key(device)));
}
