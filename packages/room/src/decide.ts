import type { ControlEntry } from "./actions.ts";
import { type Decision, reject } from "./decision.ts";
import {
  checkCreateCarrier,
  checkMlsCarrier,
  decideMlsCommit,
  withNextEpoch,
} from "./encryption-rules.ts";
import {
  decideBan,
  decideInvite,
  decideJoin,
  decideKick,
  decideKnock,
  decideLeave,
  decideSetRole,
  decideUnban,
  type UserContext,
} from "./membership-rules.ts";
import {
  decideAddSponsor,
  decideCreate,
  decideRemoveSponsor,
  decideSetJoinRule,
  decideSetName,
  decideSetPermissions,
  decideSetServerAcl,
  decideSetSponsorPolicy,
  decideSetTopic,
} from "./settings-rules.ts";
import type { RoomState } from "./state.ts";

/**
 * Decides a control entry against the state before it, for the entry at log
 * index `index`. Pure and total: every entry gets a decision, and every
 * sponsor decides identically. Sponsors call this before proposing (to refuse
 * early) and the state machine calls it again when applying, since the state
 * may have moved in between.
 */
export function decide(state: RoomState | undefined, entry: ControlEntry, index: number): Decision {
  const { actor, action } = entry;
  if (state === undefined) {
    if (action.type !== "create") return reject("room_not_created", "the room does not exist yet");
    if (actor.type !== "user") return reject("forbidden", "a user creates a room");
    return checkCreateCarrier(entry) ?? decideCreate(actor.user, action, index, entry);
  }
  if (action.type === "create") return reject("room_already_created", "the room exists");
  const carrier = checkMlsCarrier(state, entry);
  if (carrier !== undefined) return carrier;
  return withNextEpoch(decideAction(state, entry, index), entry.mls, index);
}

function decideAction(state: RoomState, entry: ControlEntry, index: number): Decision {
  const { actor, action } = entry;
  if (actor.type === "server") {
    if (action.type === "add-sponsor") return decideAddSponsor(state, actor.server, action.server);
    if (action.type === "remove-sponsor") {
      return decideRemoveSponsor(state, actor.server, action.server);
    }
    return reject("forbidden", "servers change only the sponsor set; users change everything else");
  }
  const context: UserContext = { state, actor: actor.user, index };
  switch (action.type) {
    case "invite":
      return decideInvite(context, action.target);
    case "join":
      return decideJoin(context);
    case "knock":
      return decideKnock(context);
    case "leave":
      return decideLeave(context);
    case "kick":
      return decideKick(context, action.target);
    case "ban":
      return decideBan(context, action.target);
    case "unban":
      return decideUnban(context, action.target);
    case "set-role":
      return decideSetRole(context, action.target, action.role);
    case "set-name":
      return decideSetName(context, action.name);
    case "set-topic":
      return decideSetTopic(context, action.topic);
    case "set-join-rule":
      return decideSetJoinRule(context, action.joinRule);
    case "set-permissions":
      return decideSetPermissions(context, action.permissions);
    case "set-server-acl":
      return decideSetServerAcl(context, action.serverAcl);
    case "set-sponsor-policy":
      return decideSetSponsorPolicy(context, action.sponsorPolicy);
    case "add-sponsor":
    case "remove-sponsor":
      return reject("forbidden", "sponsor changes are proposed by a sponsoring server");
    case "mls-commit":
      return decideMlsCommit(state, actor);
    case "create":
      return reject("room_already_created", "the room exists");
  }
}
