/**
 * @parley/room — the replicated room state machine and its authorization rules.
 *
 * What it does: decides and applies control entries (create, invite, join,
 * knock, leave, kick, ban, unban, name, topic, join rule, roles, permissions,
 * server ACL, sponsor policy, sponsor set) in log order, and answers whether a
 * user may post or read at a given state. Every sponsor runs the same
 * `RoomStateMachine.apply(entry, index)` over the same Raft log and reaches
 * the same state, byte for byte (`encodeRoomSnapshot`).
 *
 * What it does not do: IO of any kind, clocks, signatures or consensus. The
 * caller authenticates the actor (the homeserver checked the device's
 * signature), orders entries (Raft), stores snapshots, and acts on the effects
 * it returns (for example proposing a sponsor change).
 *
 * What callers owe it: entries in log order, each exactly once, with
 * consecutive indexes; actors that are authenticated.
 */
export type {
  Actor,
  ControlEntry,
  CreateAction,
  MlsDevice,
  MlsPart,
  RoomAction,
  RoomActionType,
} from "./actions.ts";
export { authorizeMessage, type MessageVerdict, mayRead } from "./authorize-message.ts";
export { type CommitEffect, commitClaimViolation } from "./commit-claims.ts";
export { decide } from "./decide.ts";
export {
  type Decision,
  type RoomEffect,
  type RoomRejectionCode,
  roomRejectionCodes,
  type StateChange,
} from "./decision.ts";
export {
  decodeControlEntry,
  encodeControlEntry,
  parseControlEntry,
  parseRoomAction,
} from "./entry-codec.ts";
export { roomLimits } from "./limits.ts";
export { type ApplyOutcome, RoomStateMachine } from "./machine.ts";
export {
  defaultPermissions,
  isAtLeast,
  type Permissions,
  permissionNames,
  type Role,
  roles,
} from "./roles.ts";
export { globMatches, isServerAllowed, openServerAcl, type ServerAcl } from "./server-acl.ts";
export { decodeRoomSnapshot, encodeRoomSnapshot } from "./snapshot.ts";
export {
  type JoinRule,
  joinedMembers,
  joinRules,
  type MemberRecord,
  type Membership,
  type MlsGroupState,
  membershipOf,
  memberships,
  type RoomKind,
  type RoomState,
  roleOf,
  roomKinds,
  type SponsorMode,
  type SponsorPolicy,
  sponsorModes,
} from "./state.ts";
