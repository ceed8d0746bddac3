// The JSON shapes of the client API's HTTP answers that only the SDK reads
// (docs/protocol.md ch. 10), typed with the room package's words. Events and
// stream frames are @parley/protocol's (client-api/), shared with the server
// and the tools. These describe the wire, not the SDK's public model: the
// client turns them into the typed events of events/.

import type { JoinRule, Membership, Permissions, Role, ServerAcl } from "@parley/room";

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
