// The JSON shapes of the client API as the homeserver sends them
// (docs/protocol.md ch. 10). They describe the wire, not the SDK's public
// model: the client turns them into the typed events of events/.

import type {
  Actor,
  JoinRule,
  Membership,
  Permissions,
  Role,
  RoomAction,
  ServerAcl,
} from "@parley/room";

/** `POST /register` and `POST /login` (§10.2). */
export interface SessionGrantJson {
  readonly userId: string;
  readonly deviceId: string;
  /** The complete attested device record, base64url. */
  readonly attestation: string;
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

/** `POST /session` (§10.2): a new session opened with the device key. */
export interface ChallengeSessionJson {
  readonly userId: string;
  readonly deviceId: string;
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

/** `GET /rooms` (§10.3). */
export interface RoomListJson {
  readonly rooms: ReadonlyArray<{
    readonly roomId: string;
    readonly membership: "joined" | "invited" | "knocking";
    readonly sinceIndex: number;
  }>;
}

/** `GET /rooms/{roomId}` (§10.3): the applied state. */
export interface RoomStateJson {
  readonly roomId: string;
  readonly kind: "plain" | "encrypted";
  readonly contentType: string;
  readonly creator: string;
  readonly createdAtMs: number;
  readonly name: string;
  readonly topic: string;
  readonly joinRule: JoinRule;
  readonly permissions: Permissions;
  readonly serverAcl: ServerAcl;
  readonly sponsors: readonly string[];
  readonly appliedIndex: number;
  readonly joinedMembers: number;
  readonly membership: Membership | "none";
  readonly role: Role;
}

/** `GET /rooms/{roomId}/members` (§10.3). */
export interface MembersPageJson {
  readonly members: ReadonlyArray<{
    readonly userId: string;
    readonly membership: Membership;
    readonly role: Role;
    readonly sinceIndex: number;
  }>;
  readonly more: boolean;
  readonly next: string | null;
}

/** `POST /rooms/{roomId}/messages` (§10.4). */
export interface AcceptedMessageJson {
  readonly sequence: number;
  readonly streamPosition: number;
  readonly acceptedAtMs: number;
  readonly controlIndex: number;
  readonly duplicate: boolean;
}

/** One event of the server-wide stream, in history pages and on the stream (§10.7). */
export interface EventJson {
  readonly position: number;
  readonly roomId: string;
  readonly sequence: number;
  readonly kind: "message" | "control";
  readonly sender: string;
  readonly deviceId: string | null;
  readonly clientId: string | null;
  readonly contentType: string;
  readonly acceptedAtMs: number;
  readonly controlIndex: number;
  readonly signed: string;
  readonly signature: string | null;
  readonly control?: { readonly actor: Actor; readonly action: RoomAction };
  /** On control events of encrypted rooms that carry MLS (§10.13). */
  readonly mls?: {
    readonly epoch: number;
    /** The PublicMessage commit, base64url; null for the create entry. */
    readonly commit: string | null;
    readonly added: ReadonlyArray<{ readonly userId: string; readonly deviceId: string }>;
  } | null;
}

/** `GET /rooms/{roomId}/messages` (§10.4). */
export interface HistoryPageJson {
  readonly events: readonly EventJson[];
  readonly direction: "backward" | "forward";
  readonly more: boolean;
  readonly next: number;
}

/** A queue item on the stream (§10.8): an invite or a membership notice for this device. */
export interface QueueItemJson {
  readonly position: number;
  readonly id: string;
  readonly kind: string;
  readonly body: NoticeBodyJson;
  readonly createdAtMs: number;
}

/** A queue item's body (§10.8); fields are checked before use. */
export interface NoticeBodyJson {
  readonly type?: unknown;
  readonly roomId?: unknown;
  readonly membership?: unknown;
  readonly by?: unknown;
  readonly logIndex?: unknown;
  readonly name?: unknown;
  readonly reason?: unknown;
}

/** Frames the server sends on the stream (§10.8). */
export type ServerFrame =
  | {
      readonly type: "ready";
      readonly userId: string;
      readonly deviceId: string;
      readonly streamPosition: number;
      readonly queuePosition: number;
    }
  | { readonly type: "events"; readonly through: number; readonly events: readonly EventJson[] }
  | { readonly type: "missed"; readonly count: number; readonly through: number }
  | {
      readonly type: "queue";
      readonly items: readonly QueueItemJson[];
      readonly missed: { readonly count: number; readonly through: number } | null;
    }
  | { readonly type: "pong" };
