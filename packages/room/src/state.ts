import type { RoomId, ServerName, UserId } from "@parley/protocol";
import type { MlsDevice } from "./actions.ts";
import type { Permissions, Role } from "./roles.ts";
import type { ServerAcl } from "./server-acl.ts";

export const roomKinds = ["plain", "encrypted"] as const;
export type RoomKind = (typeof roomKinds)[number];

export const joinRules = ["invite", "knock", "open"] as const;
export type JoinRule = (typeof joinRules)[number];

export const memberships = ["invited", "knocking", "joined", "left", "banned"] as const;
export type Membership = (typeof memberships)[number];

export interface MemberRecord {
  readonly membership: Membership;
  /** Roles hold only while joined or invited: leaving, being kicked or banned resets it to member. */
  readonly role: Role;
  /** Control-log index of the entry that last changed this record. */
  readonly sinceIndex: number;
}

/**
 * How servers come to sponsor the room.
 * - `invited-by-admin`: a user invited by an admin brings their server in (the default);
 *   users who join an open room by themselves do not.
 * - `every-participating-server`: every server with a joined or invited member sponsors
 *   (private rooms).
 * - `fixed`: only explicit add-sponsor entries change the set.
 */
export const sponsorModes = ["invited-by-admin", "every-participating-server", "fixed"] as const;
export type SponsorMode = (typeof sponsorModes)[number];

export interface SponsorPolicy {
  readonly mode: SponsorMode;
  readonly sponsorsMax: number;
}

/**
 * The MLS group of an encrypted room as the control log left it: the current
 * epoch and the GroupInfo and ratchet tree of that epoch (from the entry that
 * started it), which sponsors check the next commit against and serve for
 * external joins.
 */
export interface MlsGroupState {
  readonly epoch: number;
  /** Control index of the entry that started the epoch. */
  readonly sinceIndex: number;
  readonly groupInfo: Uint8Array;
  readonly ratchetTree: Uint8Array;
  /**
   * The Welcome of the commit that started the epoch and the devices it
   * added (null and empty otherwise), kept so that a server that learns the
   * room from a snapshot (an invitee's server made a sponsor) can still hand
   * the Welcome to its devices.
   */
  readonly welcome: Uint8Array | null;
  readonly added: readonly MlsDevice[];
}

/** The state every sponsor agrees on at a control-log index. */
export interface RoomState {
  readonly roomId: RoomId;
  readonly kind: RoomKind;
  readonly contentType: string;
  readonly creator: UserId;
  readonly createdAtMs: number;
  readonly name: string;
  readonly topic: string;
  readonly joinRule: JoinRule;
  readonly permissions: Permissions;
  readonly serverAcl: ServerAcl;
  readonly sponsorPolicy: SponsorPolicy;
  /** Sorted, so two sponsors that agree on the set agree on its order too. */
  readonly sponsors: readonly ServerName[];
  readonly members: ReadonlyMap<UserId, MemberRecord>;
  /** The MLS group: present exactly in encrypted rooms. */
  readonly mls?: MlsGroupState;
  /** Index of the last control entry applied (rejected entries count: they are in the log). */
  readonly appliedIndex: number;
}

export function membershipOf(state: RoomState, user: UserId): Membership | "none" {
  return state.members.get(user)?.membership ?? "none";
}

export function roleOf(state: RoomState, user: UserId): Role {
  return state.members.get(user)?.role ?? "member";
}

export function joinedMembers(state: RoomState): UserId[] {
  const joined: UserId[] = [];
  for (const [user, record] of state.members) {
    if (record.membership === "joined") joined.push(user);
  }
  return joined;
}
