import type { RoomId, ServerName, UserId } from "@parley/protocol";
import type { Permissions, Role } from "./roles.ts";
import type { ServerAcl } from "./server-acl.ts";
import type { JoinRule, RoomKind, SponsorPolicy } from "./state.ts";

/**
 * Who proposed a control entry. Users act through their homeserver, which has
 * authenticated the sending device; servers act only for sponsor-set changes.
 */
export type Actor =
  | { readonly type: "user"; readonly user: UserId }
  | { readonly type: "server"; readonly server: ServerName };

export interface CreateAction {
  readonly type: "create";
  readonly roomId: RoomId;
  readonly kind: RoomKind;
  readonly contentType: string;
  readonly name: string;
  readonly topic: string;
  readonly joinRule: JoinRule;
  readonly sponsorPolicy: SponsorPolicy;
}

/** Every change of room state is one of these, ordered by the room's Raft log. */
export type RoomAction =
  | CreateAction
  | { readonly type: "invite"; readonly target: UserId }
  | { readonly type: "join" }
  | { readonly type: "knock"; readonly reason: string }
  | { readonly type: "leave" }
  | { readonly type: "kick"; readonly target: UserId; readonly reason: string }
  | { readonly type: "ban"; readonly target: UserId; readonly reason: string }
  | { readonly type: "unban"; readonly target: UserId }
  | { readonly type: "set-name"; readonly name: string }
  | { readonly type: "set-topic"; readonly topic: string }
  | { readonly type: "set-join-rule"; readonly joinRule: JoinRule }
  | { readonly type: "set-role"; readonly target: UserId; readonly role: Role }
  | { readonly type: "set-permissions"; readonly permissions: Permissions }
  | { readonly type: "set-server-acl"; readonly serverAcl: ServerAcl }
  | { readonly type: "set-sponsor-policy"; readonly sponsorPolicy: SponsorPolicy }
  | { readonly type: "add-sponsor"; readonly server: ServerName }
  | { readonly type: "remove-sponsor"; readonly server: ServerName };

export type RoomActionType = RoomAction["type"];

/** One entry of the room's control log, as the state machine sees it. */
export interface ControlEntry {
  readonly actor: Actor;
  readonly action: RoomAction;
  /**
   * When the proposing sponsor accepted the proposal, in milliseconds since
   * the Unix epoch. Informational only: no rule ever depends on it, since
   * sponsors' clocks disagree.
   */
  readonly proposedAtMs: number;
}
