import { type ServerName, serverOfUser, type UserId } from "@parley/protocol";
import { accept, type Decision, type RoomEffect, reject, type StateChange } from "./decision.ts";
import { roomLimits } from "./limits.ts";
import { isAbove, isAtLeast, type Permissions, type Role } from "./roles.ts";
import { isServerAllowed } from "./server-acl.ts";
import { type Membership, membershipOf, type RoomState, roleOf } from "./state.ts";

/** Context every rule gets: the state, the acting user, and the index being applied. */
export interface UserContext {
  readonly state: RoomState;
  readonly actor: UserId;
  readonly index: number;
}

export function decideInvite(context: UserContext, target: UserId): Decision {
  const { state, actor } = context;
  const permission = requireJoinedWith(context, "invite");
  if (permission !== undefined) return permission;
  if (!isServerAllowed(state.serverAcl, serverOfUser(target))) {
    return reject("server_denied", "the invitee's server is denied by the room's server ACL");
  }
  const current = membershipOf(state, target);
  if (current === "banned") return reject("banned", "the invitee is banned; unban them first");
  if (current === "joined" || current === "invited") {
    return reject("already_member", `the invitee is already ${current}`);
  }
  const limit = checkMembersLimit(state, target);
  if (limit !== undefined) return limit;
  const effects: RoomEffect[] = [];
  const targetServer = serverOfUser(target);
  const bringsServer =
    (state.sponsorPolicy.mode === "invited-by-admin" && roleOf(state, actor) === "admin") ||
    state.sponsorPolicy.mode === "every-participating-server";
  if (bringsServer && wantsSponsor(state, targetServer)) {
    effects.push({ type: "sponsor-wanted", server: targetServer });
  }
  return accept([setMembership(context, target, "invited", "member")], effects);
}

export function decideJoin(context: UserContext): Decision {
  const { state, actor } = context;
  if (!isServerAllowed(state.serverAcl, serverOfUser(actor))) {
    return reject("server_denied", "your server is denied by the room's server ACL");
  }
  const current = membershipOf(state, actor);
  if (current === "banned") return reject("banned", "you are banned from this room");
  if (current === "joined") return reject("already_member", "you have already joined");
  if (current !== "invited" && state.joinRule !== "open") {
    return reject(
      "not_invited",
      `this room's join rule is "${state.joinRule}"; an invite is needed`,
    );
  }
  const limit = checkMembersLimit(state, actor);
  if (limit !== undefined) return limit;
  // An invite keeps the role it was given; joining an open room makes a member.
  const role = current === "invited" ? roleOf(state, actor) : "member";
  const effects: RoomEffect[] = [];
  const server = serverOfUser(actor);
  if (state.sponsorPolicy.mode === "every-participating-server" && wantsSponsor(state, server)) {
    effects.push({ type: "sponsor-wanted", server });
  }
  return accept([setMembership(context, actor, "joined", role)], effects);
}

export function decideKnock(context: UserContext): Decision {
  const { state, actor } = context;
  if (state.joinRule !== "knock") {
    return reject("invalid_membership_change", `this room's join rule is "${state.joinRule}"`);
  }
  if (!isServerAllowed(state.serverAcl, serverOfUser(actor))) {
    return reject("server_denied", "your server is denied by the room's server ACL");
  }
  const current = membershipOf(state, actor);
  if (current === "banned") return reject("banned", "you are banned from this room");
  if (current !== "none" && current !== "left") {
    return reject("invalid_membership_change", `you cannot knock while ${current}`);
  }
  const limit = checkMembersLimit(state, actor);
  if (limit !== undefined) return limit;
  return accept([setMembership(context, actor, "knocking", "member")]);
}

export function decideLeave(context: UserContext): Decision {
  const { state, actor } = context;
  const current = membershipOf(state, actor);
  if (current !== "joined" && current !== "invited" && current !== "knocking") {
    return reject("not_member", `you cannot leave while ${current}`);
  }
  if (current === "joined" && isLastAdminWithOthers(state, actor)) {
    return reject("last_admin", "you are the last admin; make another member admin first");
  }
  return accept(
    [setMembership(context, actor, "left", "member")],
    sponsorNoLongerNeeded(state, actor),
  );
}

export function decideKick(context: UserContext, target: UserId): Decision {
  const { state, actor } = context;
  if (target === actor) return reject("invalid_membership_change", "use leave to leave a room");
  const permission = requireJoinedWith(context, "kick");
  if (permission !== undefined) return permission;
  const outranks = requireOutranks(state, actor, target);
  if (outranks !== undefined) return outranks;
  const current = membershipOf(state, target);
  if (current !== "joined" && current !== "invited" && current !== "knocking") {
    return reject("invalid_membership_change", `cannot kick a user who is ${current}`);
  }
  return accept(
    [setMembership(context, target, "left", "member")],
    sponsorNoLongerNeeded(state, target),
  );
}

export function decideBan(context: UserContext, target: UserId): Decision {
  const { state, actor } = context;
  if (target === actor) return reject("invalid_membership_change", "you cannot ban yourself");
  const permission = requireJoinedWith(context, "ban");
  if (permission !== undefined) return permission;
  const outranks = requireOutranks(state, actor, target);
  if (outranks !== undefined) return outranks;
  const current = membershipOf(state, target);
  if (current === "banned") return reject("invalid_membership_change", "already banned");
  const limit = checkMembersLimit(state, target);
  if (limit !== undefined) return limit;
  return accept(
    [setMembership(context, target, "banned", "member")],
    sponsorNoLongerNeeded(state, target),
  );
}

export function decideUnban(context: UserContext, target: UserId): Decision {
  const permission = requireJoinedWith(context, "ban");
  if (permission !== undefined) return permission;
  if (membershipOf(context.state, target) !== "banned") {
    return reject("invalid_membership_change", "the user is not banned");
  }
  return accept([setMembership(context, target, "left", "member")]);
}

export function decideSetRole(context: UserContext, target: UserId, role: Role): Decision {
  const { state, actor } = context;
  const permission = requireJoinedWith(context, "setRoles");
  if (permission !== undefined) return permission;
  const record = state.members.get(target);
  if (record === undefined || record.membership !== "joined") {
    return reject("not_member", "roles are given to joined members only");
  }
  const actorRole = roleOf(state, actor);
  if (target === actor) {
    if (isAbove(role, actorRole)) return reject("forbidden", "you cannot promote yourself");
    // Even alone: a room whose only member is not an admin can never be administered again.
    if (role !== "admin" && isLastJoinedAdmin(state, actor)) {
      return reject("last_admin", "you are the last admin; make another member admin first");
    }
  } else {
    if (!isAbove(actorRole, record.role)) {
      return reject("forbidden", "you can change the role only of members below you");
    }
    if (isAbove(role, actorRole)) return reject("forbidden", "you cannot grant a role above yours");
  }
  return accept([
    { type: "member", user: target, record: { ...record, role, sinceIndex: context.index } },
  ]);
}

/** Undefined when the actor is joined and holds `permission`; otherwise the refusal. */
export function requireJoinedWith(
  context: UserContext,
  permission: keyof Permissions,
): Decision | undefined {
  const { state, actor } = context;
  if (membershipOf(state, actor) !== "joined") return reject("not_member", "you have not joined");
  if (!isServerAllowed(state.serverAcl, serverOfUser(actor))) {
    return reject("server_denied", "your server is denied by the room's server ACL");
  }
  const required = state.permissions[permission];
  if (!isAtLeast(roleOf(state, actor), required)) {
    return reject("forbidden", `${permission} needs the ${required} role`);
  }
  return undefined;
}

function requireOutranks(state: RoomState, actor: UserId, target: UserId): Decision | undefined {
  if (isAbove(roleOf(state, actor), roleOf(state, target))) return undefined;
  return reject("forbidden", "you can act only on members below your role");
}

function setMembership(
  context: UserContext,
  user: UserId,
  membership: Membership,
  role: Role,
): StateChange {
  return { type: "member", user, record: { membership, role, sinceIndex: context.index } };
}

function checkMembersLimit(state: RoomState, user: UserId): Decision | undefined {
  if (state.members.has(user) || state.members.size < roomLimits.membersMax) return undefined;
  return reject("members_limit_reached", `a room holds at most ${roomLimits.membersMax} members`);
}

function isLastJoinedAdmin(state: RoomState, user: UserId): boolean {
  if (roleOf(state, user) !== "admin") return false;
  for (const [member, record] of state.members) {
    if (member !== user && record.membership === "joined" && record.role === "admin") return false;
  }
  return true;
}

function isLastAdminWithOthers(state: RoomState, user: UserId): boolean {
  if (roleOf(state, user) !== "admin") return false;
  let otherJoined = false;
  for (const [member, record] of state.members) {
    if (member === user || record.membership !== "joined") continue;
    if (record.role === "admin") return false;
    otherJoined = true;
  }
  return otherJoined;
}

function wantsSponsor(state: RoomState, server: ServerName): boolean {
  return (
    !state.sponsors.includes(server) && state.sponsors.length < state.sponsorPolicy.sponsorsMax
  );
}

/**
 * Under `every-participating-server`, a sponsor whose last joined or invited
 * member goes is no longer needed. The room's last sponsor always stays.
 */
function sponsorNoLongerNeeded(state: RoomState, leaving: UserId): RoomEffect[] {
  if (state.sponsorPolicy.mode !== "every-participating-server") return [];
  const server = serverOfUser(leaving);
  if (!state.sponsors.includes(server) || state.sponsors.length <= 1) return [];
  for (const [member, record] of state.members) {
    if (member === leaving) continue;
    const present = record.membership === "joined" || record.membership === "invited";
    if (present && serverOfUser(member) === server) return [];
  }
  return [{ type: "sponsor-unneeded", server }];
}
