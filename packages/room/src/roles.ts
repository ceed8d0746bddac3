/**
 * Roles, lowest first. A role's rank is its position in this list; every
 * permission names the lowest role that holds it.
 */
export const roles = ["member", "moderator", "admin"] as const;
export type Role = (typeof roles)[number];

export function roleRank(role: Role): number {
  return roles.indexOf(role);
}

export function isAtLeast(role: Role, required: Role): boolean {
  return roleRank(role) >= roleRank(required);
}

export function isAbove(role: Role, other: Role): boolean {
  return roleRank(role) > roleRank(other);
}

/** What each action needs: the lowest role that may do it. Admins may change this table. */
export interface Permissions {
  readonly invite: Role;
  readonly kick: Role;
  readonly ban: Role;
  readonly setName: Role;
  readonly setTopic: Role;
  readonly setJoinRule: Role;
  readonly setRoles: Role;
  readonly setPermissions: Role;
  readonly setServerAcl: Role;
  readonly setSponsorPolicy: Role;
  readonly post: Role;
  readonly redactOthers: Role;
}

export const permissionNames = [
  "invite",
  "kick",
  "ban",
  "setName",
  "setTopic",
  "setJoinRule",
  "setRoles",
  "setPermissions",
  "setServerAcl",
  "setSponsorPolicy",
  "post",
  "redactOthers",
] as const satisfies readonly (keyof Permissions)[];

export const defaultPermissions: Permissions = {
  invite: "member",
  kick: "moderator",
  ban: "moderator",
  setName: "moderator",
  setTopic: "moderator",
  setJoinRule: "admin",
  setRoles: "admin",
  setPermissions: "admin",
  setServerAcl: "admin",
  setSponsorPolicy: "admin",
  post: "member",
  redactOthers: "moderator",
};
