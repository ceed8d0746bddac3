import type { ControlEntry, MlsPart } from "./actions.ts";
import { accept, type Decision, reject } from "./decision.ts";
import { membershipOf, type RoomState } from "./state.ts";

/**
 * The rules an encrypted room adds to every entry (docs/protocol.md §11.4):
 * which actions carry an MLS commit, and that a commit applies only in the
 * epoch it was made in, so the first commit of an epoch in log order wins and
 * every later one is refused as stale, identically on every sponsor. Returns
 * a refusal, or undefined when the entry may be decided as usual.
 */
export function checkMlsCarrier(state: RoomState, entry: ControlEntry): Decision | undefined {
  const { action, mls } = entry;
  if (state.mls === undefined) {
    if (mls !== undefined) return reject("invalid_entry", "a plain room carries no MLS");
    if (action.type === "mls-commit") {
      return reject("invalid_entry", "a plain room has no MLS group to commit to");
    }
    return undefined;
  }
  if (mls === undefined) return checkWithoutCommit(state, entry);
  if (entry.actor.type !== "user") return reject("invalid_entry", "servers commit nothing");
  if (!carriesCommit.has(action.type) || mls.commit === null) {
    return reject("invalid_entry", `a ${action.type} entry carries no MLS commit`);
  }
  if (mls.epoch !== state.mls.epoch) {
    return reject(
      "mls_stale_epoch",
      `a commit made in epoch ${mls.epoch}; the room is at epoch ${state.mls.epoch}`,
    );
  }
  if ((mls.welcome !== null) !== mls.added.length > 0) {
    return reject("mls_rule_violation", "a Welcome comes exactly with a commit that adds devices");
  }
  return undefined;
}

/** Actions that may carry a commit; of these, all but `join` must. */
const carriesCommit = new Set(["invite", "join", "kick", "ban", "mls-commit"]);

function checkWithoutCommit(state: RoomState, entry: ControlEntry): Decision | undefined {
  const { action } = entry;
  if (action.type === "invite" || action.type === "kick" || action.type === "ban") {
    return reject(
      "mls_rule_violation",
      `in an encrypted room ${action.type} carries the MLS commit that makes it true`,
    );
  }
  if (action.type === "mls-commit")
    return reject("invalid_entry", "an mls-commit without a commit");
  if (
    action.type === "join" &&
    entry.actor.type === "user" &&
    membershipOf(state, entry.actor.user) !== "invited"
  ) {
    return reject(
      "mls_rule_violation",
      "joining an encrypted room without an invite takes an external commit",
    );
  }
  return undefined;
}

/** An `mls-commit` changes no room state; its committer must be in the room. */
export function decideMlsCommit(state: RoomState, actor: ControlEntry["actor"]): Decision {
  if (actor.type !== "user") return reject("forbidden", "servers commit nothing");
  const membership = membershipOf(state, actor.user);
  if (membership !== "joined" && membership !== "invited") {
    return reject("not_member", "only joined or invited users commit");
  }
  return accept([]);
}

/** An accepted decision of a commit-carrying entry also moves the group to the next epoch. */
export function withNextEpoch(
  decision: Decision,
  mls: MlsPart | undefined,
  index: number,
): Decision {
  if (decision.verdict === "reject" || mls === undefined || mls.commit === null) return decision;
  const next = {
    epoch: mls.epoch + 1,
    sinceIndex: index,
    groupInfo: mls.groupInfo,
    ratchetTree: mls.ratchetTree,
    welcome: mls.welcome,
    added: mls.added,
  };
  return accept([...decision.changes, { type: "mls", mls: next }], decision.effects);
}

/** The create entry of an encrypted room carries the creator's group at epoch 0, a plain one none. */
export function checkCreateCarrier(entry: ControlEntry): Decision | undefined {
  const { action, mls } = entry;
  if (action.type !== "create") return undefined;
  if (action.kind === "plain") {
    return mls === undefined ? undefined : reject("invalid_entry", "a plain room has no group");
  }
  if (mls === undefined) return reject("invalid_entry", "an encrypted room starts with its group");
  if (mls.epoch !== 0 || mls.commit !== null || mls.welcome !== null || mls.added.length > 0) {
    return reject("invalid_entry", "the create entry carries the group at epoch 0 and no commit");
  }
  return undefined;
}
