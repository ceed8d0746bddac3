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
  | { readonly type: "remove-sponsor"; readonly server: ServerName }
  /** An MLS commit that changes no room state (an update, own devices, a rejoin, cleanup). */
  | { readonly type: "mls-commit" };

export type RoomActionType = RoomAction["type"];

/** A device named by an MLS commit: the credential's user and device (docs/protocol.md §13.2). */
export interface MlsDevice {
  readonly user: UserId;
  readonly device: string;
}

/**
 * The MLS part of a control entry in an encrypted room (docs/protocol.md
 * §11.1, §13.5). The create entry carries the creator's group at epoch 0
 * (`commit` and `welcome` null); every other carrier holds a commit made in
 * `epoch` and the GroupInfo and ratchet tree of the epoch it starts. The
 * state machine checks only the epoch (first commit of an epoch wins); what
 * the commit does is checked by the proposing sponsor before proposing.
 */
export interface MlsPart {
  readonly epoch: number;
  readonly commit: Uint8Array | null;
  readonly groupInfo: Uint8Array;
  readonly ratchetTree: Uint8Array;
  readonly welcome: Uint8Array | null;
  /** The devices the commit adds, as the proposing sponsor read them from the commit. */
  readonly added: readonly MlsDevice[];
}

/** One entry of the room's control log, as the state machine sees it. */
export interface ControlEntry {
  readonly actor: Actor;
  readonly action: RoomAction;
  /** Present exactly when the entry carries an MLS group or commit (encrypted rooms only). */
  readonly mls?: MlsPart;
  /**
   * When the proposing sponsor accepted the proposal, in milliseconds since
   * the Unix epoch. Informational only: no rule ever depends on it, since
   * sponsors' clocks disagree.
   */
  readonly proposedAtMs: number;
}
