import type { ServerName, UserId } from "@parley/protocol";
import type { MemberRecord, MlsGroupState, RoomState } from "./state.ts";

/**
 * Why a control entry was refused. Each code is a wire code of the project's
 * error table; every sponsor reaches the same code for the same entry at the
 * same index, so a refusal is as deterministic as an acceptance.
 */
export const roomRejectionCodes = [
  "room_not_created",
  "room_already_created",
  "forbidden",
  "not_member",
  "banned",
  "already_member",
  "not_invited",
  "invalid_membership_change",
  "server_denied",
  "last_admin",
  "acl_locks_out_actor",
  "acl_denies_sponsor",
  "sponsor_limit_reached",
  "not_sponsor",
  "members_limit_reached",
  "invalid_entry",
  "mls_stale_epoch",
  "mls_rule_violation",
] as const;
export type RoomRejectionCode = (typeof roomRejectionCodes)[number];

/** One change to apply; a decision is a list of them, applied together or not at all. */
export type StateChange =
  | { readonly type: "replace"; readonly state: RoomState }
  | { readonly type: "member"; readonly user: UserId; readonly record: MemberRecord }
  | { readonly type: "fields"; readonly fields: Partial<RoomFields> }
  | { readonly type: "sponsors"; readonly sponsors: readonly ServerName[] }
  | { readonly type: "mls"; readonly mls: MlsGroupState };

export type RoomFields = Pick<
  RoomState,
  "name" | "topic" | "joinRule" | "permissions" | "serverAcl" | "sponsorPolicy"
>;

/**
 * What the layer above should consider doing after an entry applies. The state
 * machine never acts by itself: sponsor changes are Raft membership changes,
 * proposed by the federation layer as their own entries.
 */
export type RoomEffect =
  | { readonly type: "sponsor-wanted"; readonly server: ServerName }
  | { readonly type: "sponsor-unneeded"; readonly server: ServerName };

export type Decision =
  | {
      readonly verdict: "accept";
      readonly changes: readonly StateChange[];
      readonly effects: readonly RoomEffect[];
    }
  | { readonly verdict: "reject"; readonly code: RoomRejectionCode; readonly reason: string };

export function accept(
  changes: readonly StateChange[],
  effects: readonly RoomEffect[] = [],
): Decision {
  return { verdict: "accept", changes, effects };
}

export function reject(code: RoomRejectionCode, reason: string): Decision {
  return { verdict: "reject", code, reason };
}
