import { type ServerName, serverOfUser } from "@parley/protocol";
import type { ControlEntry, CreateAction } from "./actions.ts";
import { accept, type Decision, reject } from "./decision.ts";
import { roomLimits } from "./limits.ts";
import { requireJoinedWith, type UserContext } from "./membership-rules.ts";
import { defaultPermissions, type Permissions } from "./roles.ts";
import { isServerAllowed, openServerAcl, type ServerAcl } from "./server-acl.ts";
import type { JoinRule, RoomState, SponsorPolicy } from "./state.ts";

/** The first entry of every room: the creator joins as its first admin, their server as first sponsor. */
export function decideCreate(
  creator: UserContext["actor"],
  action: CreateAction,
  index: number,
  entry: ControlEntry,
): Decision {
  if (action.sponsorPolicy.sponsorsMax < 1) {
    return reject("invalid_entry", "a room needs room for at least one sponsor");
  }
  const state: RoomState = {
    roomId: action.roomId,
    kind: action.kind,
    contentType: action.contentType,
    creator,
    createdAtMs: entry.proposedAtMs,
    name: action.name,
    topic: action.topic,
    joinRule: action.joinRule,
    permissions: defaultPermissions,
    serverAcl: openServerAcl,
    sponsorPolicy: action.sponsorPolicy,
    sponsors: [serverOfUser(creator)],
    members: new Map([[creator, { membership: "joined", role: "admin", sinceIndex: index }]]),
    appliedIndex: index,
  };
  const mls = entry.mls;
  if (mls === undefined) return accept([{ type: "replace", state }]);
  const group = {
    epoch: 0,
    sinceIndex: index,
    groupInfo: mls.groupInfo,
    ratchetTree: mls.ratchetTree,
    welcome: null,
    added: [],
  };
  return accept([{ type: "replace", state: { ...state, mls: group } }]);
}

export function decideSetName(context: UserContext, name: string): Decision {
  return requireJoinedWith(context, "setName") ?? accept([{ type: "fields", fields: { name } }]);
}

export function decideSetTopic(context: UserContext, topic: string): Decision {
  return requireJoinedWith(context, "setTopic") ?? accept([{ type: "fields", fields: { topic } }]);
}

export function decideSetJoinRule(context: UserContext, joinRule: JoinRule): Decision {
  return (
    requireJoinedWith(context, "setJoinRule") ?? accept([{ type: "fields", fields: { joinRule } }])
  );
}

export function decideSetPermissions(context: UserContext, permissions: Permissions): Decision {
  // No table can lock admins out: admin is the highest role, so it always
  // meets whatever the table asks.
  return (
    requireJoinedWith(context, "setPermissions") ??
    accept([{ type: "fields", fields: { permissions } }])
  );
}

export function decideSetServerAcl(context: UserContext, serverAcl: ServerAcl): Decision {
  const refusal = requireJoinedWith(context, "setServerAcl");
  if (refusal !== undefined) return refusal;
  if (!isServerAllowed(serverAcl, serverOfUser(context.actor))) {
    return reject("acl_locks_out_actor", "this ACL would deny your own server");
  }
  const deniedSponsor = context.state.sponsors.find(
    (server) => !isServerAllowed(serverAcl, server),
  );
  if (deniedSponsor !== undefined) {
    return reject("acl_denies_sponsor", `remove ${deniedSponsor} from the sponsors first`);
  }
  return accept([{ type: "fields", fields: { serverAcl } }]);
}

export function decideSetSponsorPolicy(
  context: UserContext,
  sponsorPolicy: SponsorPolicy,
): Decision {
  const refusal = requireJoinedWith(context, "setSponsorPolicy");
  if (refusal !== undefined) return refusal;
  if (sponsorPolicy.sponsorsMax < context.state.sponsors.length) {
    return reject("sponsor_limit_reached", "the room already has more sponsors than that");
  }
  return accept([{ type: "fields", fields: { sponsorPolicy } }]);
}

/** Sponsor-set changes come from a current sponsor; they mirror Raft membership changes. */
export function decideAddSponsor(
  state: RoomState,
  actor: ServerName,
  server: ServerName,
): Decision {
  if (!state.sponsors.includes(actor))
    return reject("not_sponsor", "only a sponsor may add sponsors");
  if (state.sponsors.includes(server)) return reject("invalid_entry", `${server} already sponsors`);
  if (state.sponsors.length >= Math.min(state.sponsorPolicy.sponsorsMax, roomLimits.sponsorsMax)) {
    return reject("sponsor_limit_reached", "the room has as many sponsors as its policy allows");
  }
  if (!isServerAllowed(state.serverAcl, server)) {
    return reject("server_denied", "that server is denied by the room's server ACL");
  }
  const sponsors = [...state.sponsors, server].sort();
  return accept([{ type: "sponsors", sponsors }]);
}

export function decideRemoveSponsor(
  state: RoomState,
  actor: ServerName,
  server: ServerName,
): Decision {
  if (!state.sponsors.includes(actor)) {
    return reject("not_sponsor", "only a sponsor may remove sponsors");
  }
  if (!state.sponsors.includes(server))
    return reject("invalid_entry", `${server} is not a sponsor`);
  if (state.sponsors.length <= 1)
    return reject("invalid_entry", "a room keeps at least one sponsor");
  return accept([{ type: "sponsors", sponsors: state.sponsors.filter((s) => s !== server) }]);
}
